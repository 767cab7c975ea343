# The deploy workflow's identity (ci.tf): off by default; when on, only the named repository's
# deploy ref can use it, and all it can do is tunnel to this one VM through IAP.

mock_provider "google" {
  mock_resource "google_service_account" {
    defaults = {
      email  = "e2m-prod-ci-deploy@e2m-test-000000.iam.gserviceaccount.com"
      member = "serviceAccount:e2m-prod-ci-deploy@e2m-test-000000.iam.gserviceaccount.com"
      name   = "projects/e2m-test-000000/serviceAccounts/e2m-prod-ci-deploy@e2m-test-000000.iam.gserviceaccount.com"
    }
  }
  mock_resource "google_compute_address" {
    defaults = {
      address = "203.0.113.10"
    }
  }
  mock_resource "google_iam_workload_identity_pool" {
    defaults = {
      name = "projects/123456789012/locations/global/workloadIdentityPools/e2m-prod-github"
    }
  }
}

variables {
  project_id           = "e2m-test-000000"
  environment          = "prod"
  domain               = "api.example.com"
  alert_email          = "ops@example.com"
  admin_ssh_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITestKeyOnlyForTerraformTest0000000000 test"
}

run "no_ci_identity_by_default" {
  command = plan

  assert {
    condition     = length(google_service_account.ci_deploy) == 0 && length(google_iam_workload_identity_pool_provider.github) == 0 && length(google_iap_tunnel_instance_iam_member.ci_deploy) == 0
    error_message = "Without github_repository there must be no CI identity."
  }
}

run "ci_identity_is_one_repository_one_ref_one_vm" {
  command = apply

  variables {
    github_repository = "acme/api"
  }

  assert {
    condition     = google_iam_workload_identity_pool_provider.github[0].attribute_condition == "assertion.sub == 'repo:acme/api:environment:production' && assertion.ref == 'refs/heads/main'"
    error_message = "Only acme/api's production environment on main may exchange its GitHub token."
  }
  assert {
    condition     = google_iam_workload_identity_pool_provider.github[0].oidc[0].issuer_uri == "https://token.actions.githubusercontent.com"
    error_message = "The provider must trust GitHub's OIDC issuer and nothing else."
  }
  assert {
    condition     = google_service_account_iam_member.ci_deploy_wif[0].member == "principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/e2m-prod-github/attribute.repository/acme/api"
    error_message = "Only the repository's principal set may impersonate the deploy service account."
  }
  assert {
    condition     = google_iap_tunnel_instance_iam_member.ci_deploy[0].role == "roles/iap.tunnelResourceAccessor" && google_iap_tunnel_instance_iam_member.ci_deploy[0].instance == google_compute_instance.main[0].name
    error_message = "The deploy identity must tunnel to the VM only."
  }
  assert {
    condition     = google_compute_instance_iam_member.ci_deploy_view[0].instance_name == google_compute_instance.main[0].name
    error_message = "The deploy identity's view must be of the VM only, not the project."
  }
  assert {
    condition     = output.ci_deploy_service_account == "e2m-prod-ci-deploy@e2m-test-000000.iam.gserviceaccount.com"
    error_message = "The workflow's service account must be an output."
  }
}

run "refuses_a_repository_that_is_not_owner_name" {
  command = plan

  variables {
    github_repository = "https://github.com/acme/api"
  }

  expect_failures = [var.github_repository]
}
