"use strict";
document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const message = document.getElementById("message");
  message.textContent = "";
  const response = await fetch("/api/login", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      name: document.getElementById("name").value,
      password: document.getElementById("password").value,
    }),
  });
  if (response.ok) {
    location.href = "/";
    return;
  }
  let text = "login failed (" + response.status + ")";
  try {
    text = (await response.json()).error || text;
  } catch (e) {
    // not JSON: keep the status
  }
  message.textContent = text;
});
