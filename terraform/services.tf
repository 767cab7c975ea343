# APIs the cloud_run shape needs. Left enabled on destroy: turning an API off can break other
# things in the project, and an enabled API costs nothing.
locals {
  cloud_run_apis = toset(concat(
    [
      "run.googleapis.com",
      "sqladmin.googleapis.com",
      "secretmanager.googleapis.com",
      "servicenetworking.googleapis.com",
      "artifactregistry.googleapis.com",
    ],
    var.cloud_run_redis == "memorystore" ? ["redis.googleapis.com"] : [],
  ))
}

resource "google_project_service" "cloud_run" {
  for_each           = local.cloud_run_enabled ? local.cloud_run_apis : toset([])
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}
