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

# The VM shape's one extra API: Identity-Aware Proxy, because the default firewall opens SSH to
# IAP's range only (network.tf), so without it nobody can reach port 22.
resource "google_project_service" "vm" {
  for_each           = local.vm_enabled ? toset(["iap.googleapis.com"]) : toset([])
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}
