# This file is maintained automatically by "terraform init".
# Manual edits may be lost in future updates.

provider "registry.terraform.io/hashicorp/google" {
  version     = "8.0.0"
  constraints = ">= 8.0.0, < 9.0.0"
  hashes = [
    "h1:1/FQvT+HC3dj1Z2voZGOQxogQhq4j2c41i2l4p2nIKM=",
  ]
}
