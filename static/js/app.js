// Site-wide htmx configuration. Page-specific behaviour lives in its own file.
document.addEventListener("DOMContentLoaded", () => {
  if (!window.htmx) return;
  // 409 (someone else decided first) and 422 (invalid input) carry a fragment showing the
  // fresh state and the error: swap them like a success instead of ignoring them.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "409", swap: true, error: false },
    { code: "422", swap: true, error: false },
    { code: "[45]..", swap: false, error: true },
  ];
});
