/**
 * The raw material of the synthetic app catalog (okta/generator.ts `appCatalog`): 100 SaaS apps as
 * they appear in an Okta org, roughly from most to least commonly used. The generator perturbs this
 * order per tenant and gives every app a Zipf-like weight by its perturbed rank.
 * `signOnMode` is Okta's `debugData.signOnMode`; OpenID Connect apps also log app.oauth2.token.grant.
 */
export interface BaseApp {
  readonly label: string;
  readonly signOnMode: 'SAML 2.0' | 'OpenID Connect';
}

const saml = (label: string): BaseApp => ({ label, signOnMode: 'SAML 2.0' });
const oidc = (label: string): BaseApp => ({ label, signOnMode: 'OpenID Connect' });

export const BASE_APPS: readonly BaseApp[] = [
  saml('Microsoft Office 365'), saml('Slack'), saml('Google Workspace'), saml('Zoom'), saml('Atlassian Jira Cloud'),
  saml('Atlassian Confluence Cloud'), saml('Salesforce.com'), saml('Workday'), oidc('GitHub Enterprise Cloud'), saml('Box'),
  saml('ServiceNow'), saml('DocuSign'), saml('AWS IAM Identity Center'), saml('Zendesk'), oidc('Notion'),
  saml('Figma'), oidc('Miro'), saml('Asana'), saml('Tableau Cloud'), saml('SAP Concur'),
  saml('Dropbox Business'), saml('Adobe Creative Cloud'), oidc('Lucid'), saml('Smartsheet'), saml('HubSpot'),
  saml('Greenhouse'), saml('BambooHR'), oidc('Lattice'), saml('Datadog'), saml('PagerDuty'),
  saml('Looker'), saml('Expensify'), oidc('Loom'), saml('Airtable'), oidc('Monday.com'),
  saml('Cisco Webex'), saml('Marketo'), saml('Oracle NetSuite'), saml('Gong'), saml('Outreach'),
  saml('ZoomInfo'), saml('LinkedIn Sales Navigator'), saml('Intercom'), saml('Snowflake'), oidc('Google Cloud Console'),
  saml('Microsoft Azure Portal'), saml('Databricks'), saml('Splunk Cloud'), saml('New Relic'), oidc('Sentry'),
  saml('GitLab'), saml('Bitbucket Cloud'), oidc('CircleCI'), saml('JFrog Artifactory'), oidc('Terraform Cloud'),
  oidc('Postman'), saml('1Password'), saml('CrowdStrike Falcon'), saml('Zscaler Internet Access'), saml('Cloudflare Zero Trust'),
  saml('Jamf Pro'), saml('Kandji'), saml('Coupa'), saml('BILL'), oidc('Brex'),
  oidc('Ramp'), saml('Carta'), saml('Gusto'), saml('ADP Workforce Now'), saml('Culture Amp'),
  saml('Gainsight'), saml('Salesloft'), saml('Freshdesk'), saml('RingCentral'), saml('Dialpad'),
  oidc('Calendly'), saml('Power BI'), saml('Mode Analytics'), saml('Amplitude'), saml('Mixpanel'),
  saml('Segment'), saml('Braze'), saml('Contentful'), saml('Webflow'), oidc('Canva'),
  saml('Sprout Social'), saml('Hootsuite'), saml('SurveyMonkey'), saml('Qualtrics'), saml('Ironclad'),
  saml('LinkedIn Learning'), saml('Udemy Business'), oidc('Zapier'), oidc('Vercel'), saml('MongoDB Atlas'),
  saml('Fivetran'), oidc('dbt Cloud'), oidc('Linear'), saml('Productboard'), saml('Pendo'),
];
