terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
    tls = {
      source  = "hashicorp/tls"
      version = "~> 4.0"
    }
  }

  # Remote state in S3, one key per environment, locked with an S3 lock file
  # (Terraform 1.10+): terraform init -backend-config=environments/<env>.s3.tfbackend
  backend "s3" {
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "emporium"
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}
