// Back office: a product's photos. The list, main photo first, each with its
// alt text (editable), "Make main" and "Remove"; and uploads of several files
// at once, dropped on the drop zone, chosen, or taken with a phone's camera,
// each file with its progress and what became of it in words.
import { request } from "/assets/api.js";
import { h, say } from "/assets/ui.js";
import { card } from "/assets/admin-kit.js";
import { number, t } from "/assets/i18n.js";

/** What the server takes (it judges by the content, not by these). */
const TYPES = "image/jpeg,image/png,image/webp";
const MAX_BYTES = 10 * 1024 * 1024;
const MAX_PHOTOS = 12;
const MAX_ALT = 200;

/** What went wrong with a photo, in the user's words: by the server's error
 *  code where there is a message for it, else the server's own message. */
export function photoError(error) {
  if (error.code === "unsupported_image") return t("photos.unsupported");
  if (error.code === "too_many_images") return t("photos.tooMany", { max: MAX_PHOTOS });
  if (error.status === 413) return t("photos.tooLarge", { max: number(MAX_BYTES / 1024 / 1024) });
  if (error.status === 422 && error.field === "alt") return t("photos.badAlt", { max: MAX_ALT });
  if (error.status === 422) return t("photos.unreadable");
  if (error.status === 404) return t("photos.gone");
  if (error.status === 403) return t("photos.notAllowed");
  return error.message;
}

/**
 * The Photos card of product `sku`, whose photos are `images` (main one
 * first). `staff` may change them; `changed()` hears every change made here
 * (each is a new version of the product).
 */
export function photosCard(sku, images, { staff, changed = () => {} }) {
  const base = `/products/${encodeURIComponent(sku)}/images`;
  const status = h("p", { class: "message", role: "status", id: "photos-status" });
  const list = h("ol", { class: "photo-list", id: "photo-list" });
  const none = h("p", { class: "muted", id: "no-photos" }, t("photos.none"));
  /** The photos on show, by id: `{ image, el, alt, saved, ... }`. */
  const items = new Map();
  let order = [];

  /** Numbers the photos, marks the main one and offers "Make main" on the others. */
  function renumber() {
    order.forEach((id, i) => {
      const item = items.get(id);
      item.badge.textContent = i === 0 ? t("photos.main") : t("photos.number", { n: i + 1 });
      item.badge.dataset.status = i === 0 ? "in_stock" : "";
      item.el.dataset.position = String(i);
      if (!staff) return;
      item.makeMain.hidden = i === 0;
      item.makeMain.setAttribute("aria-label", t("photos.makeMainOf", { n: i + 1 }));
      item.remove.setAttribute("aria-label", t("photos.removeOf", { n: i + 1 }));
      item.alt.setAttribute("aria-label", t("photos.altOf", { n: i + 1 }));
    });
    none.hidden = order.length > 0;
    list.hidden = order.length === 0;
  }

  /** Shows `next` (the server's list): new photos are added, gone ones
   *  removed, the order followed; alt texts being typed are kept. */
  function sync(next) {
    const focused = document.activeElement;
    const ids = next.map((image) => image.id);
    for (const [id, item] of items) {
      if (!ids.includes(id)) {
        item.el.remove();
        items.delete(id);
      }
    }
    for (const image of next) {
      const item = items.get(image.id) ?? photoItem(image);
      items.set(image.id, item);
      // An alt text as last saved is brought up to date; one being edited stays.
      if (staff && item.alt.value.trim() === item.image.alt) item.alt.value = image.alt;
      item.image = image;
      item.img.alt = image.alt;
      if (!staff) item.text.textContent = image.alt;
    }
    order = ids;
    // Moving an element takes the focus from it: given back below.
    list.append(...ids.map((id) => items.get(id).el));
    renumber();
    if (focused && list.contains(focused) && document.activeElement !== focused) focused.focus();
  }

  function photoItem(image) {
    const img = h("img", { loading: "lazy", alt: image.alt, src: image.thumb_url });
    const badge = h("span", { class: "badge" });
    const el = h("li", { class: "photo-item", dataset: { id: image.id } },
      h("a", { class: "photo-box", href: image.url, target: "_blank", rel: "noopener", title: t("photos.open") }, img));
    const item = { image, el, img, badge };
    if (!staff) {
      item.text = h("p", { class: "photo-alt" }, image.alt);
      el.append(h("div", { class: "stack" }, h("div", {}, badge), item.text));
      return item;
    }
    const message = h("p", { class: "message", role: "status" });
    item.alt = h("input", { name: "alt", value: image.alt, maxlength: String(MAX_ALT), autocomplete: "off" });
    const saveAlt = h("button", { type: "submit", class: "secondary" }, t("photos.saveAlt"));
    const altForm = h("form", { class: "row photo-alt-form", novalidate: true },
      h("label", {}, t("photos.alt"), item.alt), saveAlt);
    item.makeMain = h("button", { type: "button", class: "secondary make-main" }, t("photos.makeMain"));
    item.remove = h("button", { type: "button", class: "danger remove-photo" }, t("photos.remove"));
    el.append(h("div", { class: "stack" },
      h("div", {}, badge),
      altForm,
      h("div", { class: "actions" }, item.makeMain, item.remove),
      message));

    const id = () => encodeURIComponent(item.image.id);
    /** Runs `work` with `button` disabled, saying what went wrong next to the photo. */
    const act = async (button, work) => {
      button.disabled = true;
      say(message, "");
      try {
        await work();
      } catch (error) {
        say(message, photoError(error), "error");
      } finally {
        button.disabled = false;
      }
    };
    altForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const alt = item.alt.value.trim();
      if (alt === item.image.alt) {
        say(message, t("photos.altSaved"), "ok");
        return;
      }
      act(saveAlt, async () => {
        const next = (await request(`${base}/${id()}`, { method: "PATCH", body: { alt } })).body;
        item.alt.value = alt;
        item.image = { ...item.image, alt };
        sync(next);
        changed();
        say(message, t("photos.altSaved"), "ok");
      });
    });
    item.makeMain.addEventListener("click", () => act(item.makeMain, async () => {
      const next = (await request(`${base}/${id()}`, { method: "PATCH", body: { position: 0 } })).body;
      sync(next);
      changed();
      say(status, t("photos.madeMain"), "ok");
      // Its "Make main" is gone: the keyboard goes on from its alt text.
      item.alt.focus();
    }));
    item.remove.addEventListener("click", () => {
      if (!confirm(t("photos.removeConfirm"))) return;
      act(item.remove, async () => {
        const at = order.indexOf(item.image.id);
        await request(`${base}/${id()}`, { method: "DELETE" });
        sync(order.filter((other) => other !== item.image.id).map((other) => items.get(other).image));
        changed();
        say(status, t("photos.removed"), "ok");
        const neighbour = items.get(order[at] ?? order[at - 1]);
        (neighbour?.remove ?? choose).focus();
      });
    });
    return item;
  }

  // Uploads, one file after another; each file its own line in `uploads`.
  const uploads = h("ul", { class: "uploads", id: "photo-uploads", "aria-live": "polite" });
  const files = h("input", { type: "file", id: "photo-files", accept: TYPES, multiple: true, class: "visually-hidden", tabindex: "-1", "aria-hidden": "true" });
  const camera = h("input", { type: "file", id: "photo-camera", accept: TYPES, capture: "environment", class: "visually-hidden", tabindex: "-1", "aria-hidden": "true" });
  const choose = h("button", { type: "button", id: "choose-photos" }, t("photos.choose"));
  // A phone (a finger to point with) has a camera to offer; a computer, files to drag.
  const touch = matchMedia("(pointer: coarse)").matches;
  const take = h("button", { type: "button", class: "secondary", id: "take-photo", hidden: !touch }, t("photos.camera"));
  const drop = h("div", { class: "dropzone", id: "photo-drop" },
    h("p", {}, touch ? t("photos.hintTouch") : t("photos.hint")),
    h("p", { class: "muted" }, t("photos.rules", { max: number(MAX_BYTES / 1024 / 1024), count: MAX_PHOTOS })),
    h("div", { class: "actions" }, choose, take),
    files, camera);
  choose.addEventListener("click", () => files.click());
  take.addEventListener("click", () => camera.click());
  for (const input of [files, camera]) {
    input.addEventListener("change", () => {
      const chosen = [...input.files];
      input.value = "";
      upload(chosen);
    });
  }
  // Files dragged over the zone light it up; dropped, they are uploaded.
  const carriesFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes("Files");
  let depth = 0;
  drop.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    depth += 1;
    drop.classList.add("over");
  });
  drop.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  drop.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) drop.classList.remove("over");
  });
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    depth = 0;
    drop.classList.remove("over");
    upload([...(event.dataTransfer?.files ?? [])]);
  });
  // Files dropped beside the zone would make the browser leave the page
  // (and what was typed in the form) to show them: refused instead.
  if (staff) {
    document.addEventListener("dragover", (event) => {
      if (!carriesFiles(event) || drop.contains(event.target)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "none";
    });
    document.addEventListener("drop", (event) => {
      if (carriesFiles(event) && !drop.contains(event.target)) event.preventDefault();
    });
  }

  let queue = Promise.resolve();
  function upload(chosen) {
    if (chosen.length === 0) return;
    // Lines of an earlier batch that are done make way for this one's.
    for (const line of uploads.querySelectorAll("li[data-done]")) line.remove();
    say(status, "");
    for (const file of chosen) {
      const line = uploadLine(file);
      uploads.append(line.el);
      queue = queue.then(() => send(file, line));
    }
  }

  function uploadLine(file) {
    const state = h("span", { class: "upload-state" }, t("photos.waiting"));
    const bar = h("progress", { max: "1", value: "0", "aria-hidden": "true" });
    const el = h("li", { class: "upload", dataset: { state: "waiting" } },
      h("span", { class: "upload-name" }, file.name || t("photos.unnamed")), bar, state);
    return {
      el,
      show(text, kind, done = null) {
        state.textContent = text;
        el.dataset.state = kind;
        if (done === null) bar.removeAttribute("value");
        else bar.value = done;
        if (kind === "done" || kind === "error") {
          el.dataset.done = "";
          bar.hidden = true;
        }
      },
    };
  }

  async function send(file, line) {
    if (file.size > MAX_BYTES) {
      line.show(t("photos.tooLarge", { max: number(MAX_BYTES / 1024 / 1024) }), "error");
      return;
    }
    const body = new FormData();
    body.append("file", file, file.name || "photo");
    line.show(t("photos.uploading", { percent: "0" }), "uploading", 0);
    try {
      const { body: image, response } = await request(base, {
        method: "POST",
        body,
        onUpload: (sent, total) => {
          if (total > 0 && sent >= total) line.show(t("photos.preparing"), "preparing");
          else if (total > 0) line.show(t("photos.uploading", { percent: number(Math.floor((sent / total) * 100)) }), "uploading", sent / total);
        },
      });
      const added = response.status === 201;
      line.show(added ? t("photos.added") : t("photos.already"), "done", 1);
      if (!items.has(image.id)) sync([...order.map((id) => items.get(id).image), image]);
      if (added) changed();
    } catch (error) {
      line.show(photoError(error), "error");
    }
  }

  const section = card(t("photos.title"), status, none, list,
    staff ? drop : null, staff ? uploads : null);
  section.id = "photos";
  sync(images ?? []);
  return section;
}
