# The app's secrets in the cloud_run shape, read by the service as environment variables.
# Terraform creates the secret containers only, never a version: a value given to Terraform would
# be stored in plain text in its state. Values are added out of band, for example
#   printf '%s' 'mysql://app:PASSWORD@10.x.x.x:3306/app' | gcloud secrets versions add e2m-prod-database-url --data-file=-
# (terraform/README.md, README "Growth path"). On the VM the same keys live in the app's env file.
locals {
  # Environment variable -> secret id suffix.
  # A secret with no version would stop every revision from starting, so SENTRY_DSN is one only
  # when Sentry is used.
  app_secrets = local.cloud_run_enabled ? merge(
    { DATABASE_URL = "database-url" },
    var.enable_sentry_secret ? { SENTRY_DSN = "sentry-dsn" } : {},
  ) : {}
}

resource "google_secret_manager_secret" "app" {
  for_each  = local.app_secrets
  secret_id = "${local.name}-${each.value}"

  replication {
    # Google-managed keys; one location in the stack's region keeps the data where the app is.
    user_managed {
      replicas {
        location = var.region
      }
    }
  }

  labels     = local.labels
  depends_on = [google_project_service.cloud_run]
}

# The service's identity may read these secrets' versions, and no other secret.
resource "google_secret_manager_secret_iam_member" "run" {
  for_each  = local.app_secrets
  secret_id = google_secret_manager_secret.app[each.key].id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.run[0].member
}
