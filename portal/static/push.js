// Subscribes this phone to the portal's push notifications, when the person taps.

function applicationServerKey(base64url) {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function setUpSubscribe(section) {
  const button = section.querySelector('button');
  const status = section.querySelector('[role="status"]');
  const say = (text) => {
    status.textContent = text;
    status.hidden = false;
  };
  if (!('serviceWorker' in navigator) || !('PushManager' in window)) {
    button.disabled = true;
    say('This browser cannot receive notifications. Install the portal to your home screen.');
    return;
  }
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      if ((await Notification.requestPermission()) !== 'granted') {
        say('Notifications are blocked for this site in the phone settings.');
        return;
      }
      const registration = await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: applicationServerKey(section.dataset.key),
      });
      const response = await fetch(section.dataset.save, {
        method: 'POST',
        credentials: 'same-origin',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          'X-CSRFToken': document.querySelector('meta[name="csrf-token"]').content,
        },
        body: JSON.stringify({ subscription: subscription.toJSON() }),
      });
      say(response.ok ? 'This phone will be notified.' : 'That did not work. Try again.');
    } catch (error) {
      say('That did not work. Try again.');
    } finally {
      button.disabled = false;
    }
  });
}

document.querySelectorAll('[data-push-subscribe]').forEach(setUpSubscribe);
