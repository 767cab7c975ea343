terraform {
  # 1.9 for validation blocks that read other variables (the free-tier guardrails);
  # 1.7 would do for mock_provider in `terraform test`.
  required_version = ">= 1.9"

  required_providers {
    google = {
      source = "hashicorp/google"
      # Built from its Go module here (terraform/install-tools.sh); the range lets a
      # machine that can reach the registry use any 8.x.
      version = ">= 8.0, < 9.0"
    }
  }
}
