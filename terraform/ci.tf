# The identity the GitHub deploy workflow (.github/workflows/deploy.yml) uses on the VM shape:
# GitHub's OIDC token, for one repository's main branch, is exchanged through Workload Identity
# Federation for a short-lived token of a service account that can open an IAP tunnel to this
# one VM, and nothing else: no key file to leak, and SSH port 22 stays closed to the internet.
# Off until github_repository is set; its outputs are what the workflow's variables need.

variable "github_repository" {
  description = "GitHub repository (owner/name) whose deploy workflow may tunnel to the VM through IAP; empty: no CI identity."
  type        = string
  default     = ""

  validation {
    condition     = var.github_repository == "" || can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name, e.g. acme/api (or empty for no CI identity)."
  }
}

variable "github_environment" {
  description = "The GitHub environment the deploy job runs in (deploy.yml: production); GitHub puts it in the token's subject."
  type        = string
  default     = "production"
}

variable "github_deploy_ref" {
  description = "The only git ref whose workflow runs get the CI identity."
  type        = string
  default     = "refs/heads/main"
}

locals {
  ci_count = local.vm_enabled && var.github_repository != "" ? 1 : 0
  # IAP itself is on with the VM (services.tf).
  ci_apis = toset(["iamcredentials.googleapis.com", "sts.googleapis.com"])
}

resource "google_project_service" "ci" {
  for_each           = local.ci_count == 1 ? local.ci_apis : toset([])
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

resource "google_service_account" "ci_deploy" {
  count        = local.ci_count
  project      = var.project_id
  account_id   = "${local.name}-ci-deploy"
  display_name = "GitHub deploy of ${var.github_repository} (IAP tunnel to ${local.name})"
}

resource "google_iam_workload_identity_pool" "github" {
  count                     = local.ci_count
  project                   = var.project_id
  workload_identity_pool_id = "${local.name}-github"
  display_name              = "GitHub Actions"
}

resource "google_iam_workload_identity_pool_provider" "github" {
  #checkov:skip=CKV_GCP_125:The condition pins the subject to repo:OWNER/NAME:environment:ENV from var.github_repository, validated as owner/name above; checkov cannot read a variable's value
  count                              = local.ci_count
  project                            = var.project_id
  workload_identity_pool_id          = google_iam_workload_identity_pool.github[0].workload_identity_pool_id
  workload_identity_pool_provider_id = "github-oidc"
  attribute_mapping = {
    "google.subject"       = "assertion.sub"
    "attribute.repository" = "assertion.repository"
    "attribute.ref"        = "assertion.ref"
  }
  # Tokens of any other repository, environment (with its protection rules, set in GitHub) or
  # branch are refused here. A job with an environment gets subject repo:OWNER/NAME:environment:ENV.
  attribute_condition = "assertion.sub == 'repo:${var.github_repository}:environment:${var.github_environment}' && assertion.ref == '${var.github_deploy_ref}'"
  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

resource "google_service_account_iam_member" "ci_deploy_wif" {
  count              = local.ci_count
  service_account_id = google_service_account.ci_deploy[0].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github[0].name}/attribute.repository/${var.github_repository}"
}

# IAP TCP forwarding to this instance only.
resource "google_iap_tunnel_instance_iam_member" "ci_deploy" {
  count    = local.ci_count
  project  = var.project_id
  zone     = local.zone
  instance = google_compute_instance.main[0].name
  role     = "roles/iap.tunnelResourceAccessor"
  member   = google_service_account.ci_deploy[0].member
}

# gcloud start-iap-tunnel looks the instance up (its network interface) before it tunnels; a
# binding on this one instance, not a project-wide viewer role.
resource "google_compute_instance_iam_member" "ci_deploy_view" {
  count         = local.ci_count
  project       = var.project_id
  zone          = local.zone
  instance_name = google_compute_instance.main[0].name
  role          = "roles/compute.viewer"
  member        = google_service_account.ci_deploy[0].member
}

output "ci_workload_identity_provider" {
  description = "deploy.yml's GCP_WORKLOAD_IDENTITY_PROVIDER variable (null without github_repository)."
  value       = local.ci_count == 1 ? google_iam_workload_identity_pool_provider.github[0].name : null
}

output "ci_deploy_service_account" {
  description = "deploy.yml's GCP_DEPLOY_SERVICE_ACCOUNT variable (null without github_repository)."
  value       = local.ci_count == 1 ? google_service_account.ci_deploy[0].email : null
}
