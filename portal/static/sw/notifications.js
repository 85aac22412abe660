// Web Push: a message from the portal ({title, body, link}, sent by portal/push.py) is
// shown as a notification; a tap opens its link in the portal's window, or a new one.

const ICON_URL = '/static/icons/icon-192.png';
const FALLBACK_TITLE = 'Partner Portal';

/** Shows a pushed message. */
export function show(event) {
  const message = messageOf(event);
  return self.registration.showNotification(message.title || FALLBACK_TITLE, {
    body: message.body ?? '',
    icon: ICON_URL,
    tag: message.link, // a newer message about the same registration replaces the older
    data: { link: message.link },
  });
}

/** Opens the page a tapped notification is about; only ever one of the portal's own. */
export async function open(event) {
  event.notification.close();
  const link = new URL(event.notification.data?.link || '/', self.location.origin);
  if (link.origin !== self.location.origin) return;
  const windows = await self.clients.matchAll({ type: 'window' });
  const portal = windows.find((client) => client.url.startsWith(self.location.origin));
  if (portal) {
    await portal.focus();
    if (await portal.navigate(link.href).catch(() => null)) return;
  }
  await self.clients.openWindow(link.href);
}

function messageOf(event) {
  try {
    return event.data?.json() ?? {};
  } catch {
    return { body: event.data?.text() ?? '' };
  }
}
