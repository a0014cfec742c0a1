// The campaign builder's live audience count: on every change of an audience field the form's
// audience fields go to the audience-count endpoint and the answer is shown beside them.
(function () {
  "use strict";
  const FIELDS = ["segments", "countries", "churn_min", "churn_max", "value_min", "value_max", "spend_min", "spend_max", "other_rules", "holdout_share"];

  function start() {
    const out = document.getElementById("audience-count");
    const form = out && out.closest("form");
    if (!form) { return; }
    let timer = null;
    let asked = 0;

    async function refresh() {
      const body = new FormData();
      for (const name of FIELDS) {
        for (const el of form.querySelectorAll("[name='" + name + "']")) {
          if (el.type === "checkbox" && !el.checked) { continue; }
          if (el.tagName === "SELECT" && el.multiple) {
            for (const option of el.selectedOptions) { body.append(name, option.value); }
          } else {
            body.append(name, el.value);
          }
        }
      }
      const token = form.querySelector("[name=csrfmiddlewaretoken]");
      const mine = ++asked;
      out.textContent = "Counting…";
      out.className = "";
      try {
        const response = await fetch(out.dataset.url, {method: "POST", body: body, headers: {"X-CSRFToken": token ? token.value : ""}});
        const data = await response.json();
        if (mine !== asked) { return; }  // a newer question is on its way
        if (!response.ok) {
          out.className = "errornote";
          out.textContent = "Not counted: " + (data.errors || ["error"]).join("; ");
          return;
        }
        out.className = "audience-live";
        out.dataset.count = data.customers;
        out.textContent = "Live count: " + data.customers.toLocaleString("en-GB") + " customers match (about " +
          data.recipients.toLocaleString("en-GB") + " recipients after the holdout).";
      } catch (e) {
        out.textContent = "Count unavailable (" + e + ").";
      }
    }

    function later() { clearTimeout(timer); timer = setTimeout(refresh, 300); }
    for (const name of FIELDS) {
      for (const el of form.querySelectorAll("[name='" + name + "']")) {
        el.addEventListener("change", later);
        el.addEventListener("input", later);
      }
    }
    refresh();
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
