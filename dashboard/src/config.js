// Where the dashboard finds the API. `make dev` serves a generated copy naming the local API;
// the deploy command uploads one naming the deployed API. This file is never bundled.
window.COLDCALL_CONFIG = { apiBase: "http://127.0.0.1:8000" };
