# State lives in the bucket made by terraform/bootstrap. The bucket and prefix differ per
# environment, so they are given at init time:
#   terraform init -backend-config="bucket=PROJECT-tfstate" -backend-config="prefix=e2m/dev"
terraform {
  backend "gcs" {}
}
