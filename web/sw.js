// The console's service worker: shows what the server pushes (Web Push, encrypted to this
// browser; the browser decrypts it before this runs) and opens the inbox when a notification
// is clicked. Registered by views/inbox.js ("浏览器通知 / Browser notifications").
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    message = { body: event.data ? event.data.text() : "" };
  }
  const title = message.title || "UniLife";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: message.body || "",
      // One per notification: a retried delivery replaces, it does not repeat.
      tag: message.id || undefined,
      data: { id: message.id, kind: message.kind },
      lang: "zh-CN",
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const w of windows) {
      if ("focus" in w) {
        await w.focus();
        if ("navigate" in w) await w.navigate("/#/inbox").catch(() => {});
        return;
      }
    }
    await self.clients.openWindow("/#/inbox");
  })());
});
