# Emporium's AWS estate for one environment. Environments differ only by
# their tfvars (environments/<env>.tfvars) and state key
# (environments/<env>.s3.tfbackend):
#
#   terraform init -backend-config=environments/prod.s3.tfbackend
#   terraform plan -var-file=environments/prod.tfvars
#
# docs/operations.md says how the outputs feed the Kubernetes overlays.

locals {
  name = "emporium-${var.environment}"
}

# One customer-managed key for everything this environment encrypts at rest:
# EKS secrets, RDS, ElastiCache, ECR, Secrets Manager.
resource "aws_kms_key" "this" {
  description             = "${local.name}: data at rest"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_kms_alias" "this" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.this.key_id
}

module "network" {
  source = "./modules/network"

  name               = local.name
  cidr               = var.vpc_cidr
  availability_zones = var.availability_zones
  single_nat_gateway = var.single_nat_gateway
}

module "eks" {
  source = "./modules/eks"

  name                = local.name
  kubernetes_version  = var.kubernetes_version
  vpc_id              = module.network.vpc_id
  node_subnet_ids     = module.network.node_subnet_ids
  public_access_cidrs = var.cluster_endpoint_public_access_cidrs
  kms_key_arn         = aws_kms_key.this.arn
  node_instance_types = var.node_instance_types
  node_min_size       = var.node_min_size
  node_max_size       = var.node_max_size
  node_desired_size   = var.node_desired_size
  ebs_csi_role_arn    = module.irsa_ebs_csi.role_arn
  vpc_cni_role_arn    = module.irsa_vpc_cni.role_arn
}

module "ecr" {
  source = "./modules/ecr"

  name        = "emporium"
  kms_key_arn = aws_kms_key.this.arn
}

module "github_oidc" {
  source = "./modules/github-oidc"

  name            = local.name
  repository      = var.github_repository
  create_provider = var.create_github_oidc_provider
  ecr_repository  = module.ecr.repository_arn
}

module "rds" {
  source = "./modules/rds"

  name                    = local.name
  vpc_id                  = module.network.vpc_id
  subnet_ids              = module.network.data_subnet_ids
  client_security_group   = module.eks.node_security_group_id
  instance_class          = var.db_instance_class
  allocated_storage       = var.db_allocated_storage
  multi_az                = var.db_multi_az
  backup_retention_days   = var.db_backup_retention_days
  deletion_protection     = var.db_deletion_protection
  kms_key_arn             = aws_kms_key.this.arn
  final_snapshot_required = var.environment == "prod"
}

module "elasticache" {
  source = "./modules/elasticache"

  name                  = local.name
  vpc_id                = module.network.vpc_id
  subnet_ids            = module.network.data_subnet_ids
  client_security_group = module.eks.node_security_group_id
  node_type             = var.redis_node_type
  replicas              = var.redis_replicas
  kms_key_arn           = aws_kms_key.this.arn
}

module "mq" {
  source = "./modules/mq"

  name                  = local.name
  vpc_id                = module.network.vpc_id
  subnet_ids            = module.network.data_subnet_ids
  client_security_group = module.eks.node_security_group_id
  instance_type         = var.mq_instance_type
  cluster               = var.mq_cluster
}

module "ses" {
  source = "./modules/ses"

  name   = local.name
  domain = var.mail_domain
}

module "secrets" {
  source = "./modules/secrets"

  name        = "emporium/${var.environment}/app"
  kms_key_arn = aws_kms_key.this.arn
  database = {
    host     = module.rds.address
    port     = module.rds.port
    name     = module.rds.database_name
    username = module.rds.username
    password = module.rds.password
  }
  redis_endpoint = module.elasticache.primary_endpoint
  amqp = {
    endpoint = module.mq.amqps_endpoint
    username = module.mq.username
    password = module.mq.password
  }
  smtp = {
    host     = module.ses.smtp_host
    username = module.ses.smtp_username
    password = module.ses.smtp_password
  }
}

# IRSA: one role per Kubernetes ServiceAccount that calls AWS, each trusted
# only by that ServiceAccount in its namespace.
module "irsa_app" {
  source = "./modules/irsa"

  name              = "${local.name}-app"
  oidc_provider_arn = module.eks.oidc_provider_arn
  oidc_issuer       = module.eks.oidc_issuer
  namespace         = "emporium"
  service_account   = "emporium"
  policy_json       = data.aws_iam_policy_document.app.json
}

# The pods' ServiceAccount: the External Secrets store signs in with it to
# read the environment's Secrets Manager entries, and nothing else.
data "aws_iam_policy_document" "app" {
  statement {
    sid       = "ReadEnvironmentSecrets"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = ["arn:aws:secretsmanager:${var.region}:${data.aws_caller_identity.current.account_id}:secret:emporium/${var.environment}/*"]
  }
  statement {
    sid       = "DecryptEnvironmentSecrets"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.this.arn]
  }
}

module "irsa_load_balancer_controller" {
  source = "./modules/irsa"

  name              = "${local.name}-aws-load-balancer-controller"
  oidc_provider_arn = module.eks.oidc_provider_arn
  oidc_issuer       = module.eks.oidc_issuer
  namespace         = "kube-system"
  service_account   = "aws-load-balancer-controller"
  policy_json       = file("${path.module}/policies/aws-load-balancer-controller.json")
}

module "irsa_ebs_csi" {
  source = "./modules/irsa"

  name                = "${local.name}-ebs-csi"
  oidc_provider_arn   = module.eks.oidc_provider_arn
  oidc_issuer         = module.eks.oidc_issuer
  namespace           = "kube-system"
  service_account     = "ebs-csi-controller-sa"
  managed_policy_arns = ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]
}

module "irsa_vpc_cni" {
  source = "./modules/irsa"

  name                = "${local.name}-vpc-cni"
  oidc_provider_arn   = module.eks.oidc_provider_arn
  oidc_issuer         = module.eks.oidc_issuer
  namespace           = "kube-system"
  service_account     = "aws-node"
  managed_policy_arns = ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"]
}

data "aws_caller_identity" "current" {}

# The shop's TLS certificate for the ALB (validated through DNS: create the
# record of the output certificate_validation in the domain's zone).
resource "aws_acm_certificate" "shop" {
  domain_name       = var.hostname
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}
