// Boot: the pages and the nav (an entry may name the permission it needs, roles.js), then
// the router (router.js) takes over. A new page is a module
// in pages/ exporting `async render(ctx)` (see router.js), plus one line here.
import { startRouter } from "./router.js";
import { renderAdmin } from "./pages/admin.js";
import { renderCampaign } from "./pages/campaign.js";
import { renderCampaigns } from "./pages/campaigns.js";
import { renderDashboard } from "./pages/dashboard.js";
import { renderDialer } from "./pages/dialer.js";
import { renderLead } from "./pages/lead.js";
import { renderLeads } from "./pages/leads.js";
import { renderTeam } from "./pages/team.js";

const ROUTES = [
  { pattern: /^\/$/, page: renderDashboard, nav: "dashboard", title: "Dashboard" },
  { pattern: /^\/leads$/, page: renderLeads, nav: "leads", title: "Leads" },
  { pattern: /^\/leads\/([^/]+)$/, page: renderLead, nav: "leads", title: "Lead" },
  { pattern: /^\/campaigns$/, page: renderCampaigns, nav: "campaigns", title: "Campaigns" },
  { pattern: /^\/campaigns\/([^/]+)$/, page: renderCampaign, nav: "campaigns", title: "Campaign" },
  { pattern: /^\/dialer\/([^/]+)$/, page: renderDialer, nav: "campaigns", title: "Dialer" },
  { pattern: /^\/team$/, page: renderTeam, nav: "team", title: "Team" },
  { pattern: /^\/admin$/, page: renderAdmin, nav: "admin", title: "Admin", allow: "admin" },
];

const NAV = [
  { key: "dashboard", href: "#/", text: "Dashboard", icon: "chart" },
  { key: "leads", href: "#/leads", text: "Leads", icon: "list" },
  { key: "campaigns", href: "#/campaigns", text: "Campaigns", icon: "flag" },
  { key: "team", href: "#/team", text: "Team", icon: "users" },
  { key: "admin", href: "#/admin", text: "Admin", icon: "key", allow: "admin" },
];

startRouter({ routes: ROUTES, nav: NAV });
