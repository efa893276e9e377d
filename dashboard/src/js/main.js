// Boot: the pages and the nav (an entry may name the permission it needs, roles.js), then
// the router (router.js) takes over. A new page is a module
// in pages/ exporting `async render(ctx)` (see router.js), plus one line here.
import { startRouter } from "./router.js";
import { renderAdmin } from "./pages/admin.js";
import { renderCampaign } from "./pages/campaign.js";
import { renderCampaigns } from "./pages/campaigns.js";
import { renderCompliance } from "./pages/compliance.js";
import { renderDashboard } from "./pages/dashboard.js";
import { renderDialer } from "./pages/dialer.js";
import { renderLead } from "./pages/lead.js";
import { renderLeads } from "./pages/leads.js";
import { renderTeam } from "./pages/team.js";
import { renderInbox } from "./pages/inbox.js";
import { renderCallLog } from "./pages/calls.js";
import { inboxBadge, refreshUnread } from "./inbox-badge.js";
import { ensureTeamCountry } from "./team-country.js";

const ROUTES = [
  { pattern: /^\/$/, page: renderDashboard, nav: "dashboard", title: "Dashboard" },
  { pattern: /^\/leads$/, page: renderLeads, nav: "leads", title: "Leads" },
  { pattern: /^\/leads\/([^/]+)$/, page: renderLead, nav: "leads", title: "Lead" },
  { pattern: /^\/campaigns$/, page: renderCampaigns, nav: "campaigns", title: "Campaigns" },
  { pattern: /^\/campaigns\/([^/]+)$/, page: renderCampaign, nav: "campaigns", title: "Campaign" },
  { pattern: /^\/dialer\/([^/]+)$/, page: renderDialer, nav: "campaigns", title: "Dialer" },
  { pattern: /^\/inbox$/, page: renderInbox, nav: "inbox", title: "Inbox" },
  { pattern: /^\/calls$/, page: renderCallLog, nav: "calls", title: "Call log" },
  { pattern: /^\/team$/, page: renderTeam, nav: "team", title: "Team" },
  { pattern: /^\/compliance$/, page: renderCompliance, nav: "compliance", title: "Compliance" },
  { pattern: /^\/admin$/, page: renderAdmin, nav: "admin", title: "Admin", allow: "admin" },
];

const NAV = [
  { key: "dashboard", href: "#/", text: "Dashboard", icon: "chart" },
  { key: "leads", href: "#/leads", text: "Leads", icon: "list" },
  { key: "campaigns", href: "#/campaigns", text: "Campaigns", icon: "flag" },
  { key: "inbox", href: "#/inbox", text: "Inbox", icon: "message", badge: inboxBadge },
  { key: "calls", href: "#/calls", text: "Calls", icon: "phone" },
  { key: "team", href: "#/team", text: "Team", icon: "users" },
  { key: "compliance", href: "#/compliance", text: "Compliance", icon: "shield" },
  { key: "admin", href: "#/admin", text: "Admin", icon: "key", allow: "admin" },
];

// Phone numbers read in the team's country's format; the inbox badge asks again on every
// navigation (and every 30 s).
window.addEventListener("hashchange", () => refreshUnread());
// A page waits at most a moment for the team's country (one request per sign-in): a slow
// answer leaves that page's numbers in E.164, never the page itself unshown.
const teamCountry = () => Promise.race([ensureTeamCountry(), new Promise((done) => setTimeout(done, 1500))]);
startRouter({ routes: ROUTES, nav: NAV, before: teamCountry });
