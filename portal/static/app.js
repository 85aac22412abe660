// A form marked data-submit-once can be sent once per page: a second tap does nothing.
document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!form.matches('[data-submit-once]')) return;
  if (form.dataset.sending === 'yes') {
    event.preventDefault();
    return;
  }
  form.dataset.sending = 'yes';
  const button = form.querySelector('button[type="submit"]');
  if (button) button.setAttribute('aria-busy', 'true');
});
