// A new component's key follows its title, as long as nobody has typed a key of their own: the same slug the
// server makes when the key is left blank (Django's slugify: ASCII letters, digits and hyphens).
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-key-from-title]");
  const title = form && form.querySelector("#id_title");
  const key = form && form.querySelector("#id_key");
  if (!title || !key) return;
  const slugify = (text) =>
    text
      .normalize("NFKD")
      .replace(/[^\x00-\x7F]/g, "")
      .toLowerCase()
      .replace(/[^\w\s-]/g, "")
      .replace(/[-\s]+/g, "-")
      .replace(/^[-_]+|[-_]+$/g, "")
      .slice(0, 64)
      .replace(/-+$/, "");
  let touched = key.value !== "" && key.value !== slugify(title.value);
  key.addEventListener("input", () => {
    touched = key.value !== "";
  });
  const follow = () => {
    if (!touched) key.value = slugify(title.value);
  };
  title.addEventListener("input", follow);
  follow();  // a title typed before this script ran (a slow page) is followed too
});
