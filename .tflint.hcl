# tflint for terraform/ and terraform/bootstrap (npm run infra:lint). The google ruleset is
# built from its Go module by terraform/install-tools.sh and found through TFLINT_PLUGIN_DIR
# (terraform/tools.sh), so no `source`/`version` here: `tflint --init` would try to download it.
config {
  call_module_type = "none"
  force            = false
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}

# The root module is split by topic (network.tf, compute.tf, ...) as terraform-google-modules
# do, so it has no main.tf; every other structural rule of the "all" preset stays on.
rule "terraform_standard_module_structure" {
  enabled = false
}

plugin "google" {
  enabled = true
  # deep_check calls the GCP API to verify values; there is no GCP here.
  deep_check = false
}
