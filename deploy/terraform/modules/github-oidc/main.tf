# GitHub Actions signs in to AWS with its OIDC token (no stored keys): a role
# that only workflows of the repository running on main may assume, allowed
# to push to the image repository and nothing else.

variable "name" {
  description = "Name prefix of the role."
  type        = string
}

variable "repository" {
  description = "GitHub repository, owner/name."
  type        = string
}

variable "create_provider" {
  description = "Create the account's token.actions.githubusercontent.com provider (one per account)."
  type        = bool
}

variable "ecr_repository" {
  description = "ARN of the repository the role may push to."
  type        = string
}

data "tls_certificate" "github" {
  count = var.create_provider ? 1 : 0

  url = "https://token.actions.githubusercontent.com/.well-known/openid-configuration"
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_provider ? 1 : 0

  url             = "https://token.actions.githubusercontent.com"
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = [data.tls_certificate.github[0].certificates[0].sha1_fingerprint]
}

data "aws_caller_identity" "current" {}

locals {
  provider_arn = var.create_provider ? aws_iam_openid_connect_provider.github[0].arn : "arn:aws:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/token.actions.githubusercontent.com"
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.repository}:ref:refs/heads/main"]
    }
  }
}

resource "aws_iam_role" "ci" {
  name               = "${var.name}-ci-ecr-push"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

data "aws_iam_policy_document" "push" {
  statement {
    sid       = "Login"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "Push"
    actions = [
      "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
      "ecr:DescribeImages", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart",
    ]
    resources = [var.ecr_repository]
  }
}

resource "aws_iam_role_policy" "push" {
  name   = "ecr-push"
  role   = aws_iam_role.ci.id
  policy = data.aws_iam_policy_document.push.json
}

# CI's Terraform plan on main (ci.yml, job terraform): read-only. Plan
# refreshes the state, so it reads every resource, the secrets' current
# values (Secrets Manager, this environment's emporium/ entries only) and the
# state; it never takes the state lock (plan -lock=false).
resource "aws_iam_role" "plan" {
  name               = "${var.name}-ci-terraform-plan"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy_attachment" "plan_read_only" {
  role       = aws_iam_role.plan.name
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

data "aws_iam_policy_document" "plan" {
  statement {
    sid       = "SecretValues"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:aws:secretsmanager:*:${data.aws_caller_identity.current.account_id}:secret:emporium/*"]
  }

  statement {
    sid       = "DecryptStateAndSecrets"
    actions   = ["kms:Decrypt"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "plan" {
  name   = "terraform-plan-read"
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.plan.json
}

output "plan_role_arn" {
  description = "The read-only role CI's terraform plan assumes (repository variable AWS_TF_PLAN_ROLE_ARN_<ENV>)."
  value       = aws_iam_role.plan.arn
}

output "role_arn" {
  description = "The role CI assumes (repository variable AWS_ECR_ROLE_ARN)."
  value       = aws_iam_role.ci.arn
}
