// Boot: the pages and the nav (an entry may name the permission it needs, roles.js), then
// the router (router.js) takes over. A new page is a module
// in pages/ exporting `async render(ctx)` (see router.js), plus one line here.
import { startRouter } from "./router.js";
import { renderAdmin } from "./pages/admin.js";
import { renderCompliance } from "./pages/compliance.js";
import { renderDashboard } from "./pages/dashboard.js";
import { renderLead } from "./pages/lead.js";
import { renderLeads } from "./pages/leads.js";
import { renderTeam } from "./pages/team.js";

const ROUTES = [
  { pattern: /^\/$/, page: renderDashboard, nav: "dashboard", title: "Dashboard" },
  { pattern: /^\/leads$/, page: renderLeads, nav: "leads", title: "Leads" },
  { pattern: /^\/leads\/([^/]+)$/, page: renderLead, nav: "leads", title: "Lead" },
  { pattern: /^\/team$/, page: renderTeam, nav: "team", title: "Team" },
  { pattern: /^\/compliance$/, page: renderCompliance, nav: "compliance", title: "Compliance" },
  { pattern: /^\/admin$/, page: renderAdmin, nav: "admin", title: "Admin", allow: "admin" },
];

const NAV = [
  { key: "dashboard", href: "#/", text: "Dashboard", icon: "chart" },
  { key: "leads", href: "#/leads", text: "Leads", icon: "list" },
  { key: "team", href: "#/team", text: "Team", icon: "users" },
  { key: "compliance", href: "#/compliance", text: "Compliance", icon: "shield" },
  { key: "admin", href: "#/admin", text: "Admin", icon: "key", allow: "admin" },
];

startRouter({ routes: ROUTES, nav: NAV });
