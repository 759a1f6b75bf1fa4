variable "environment" {
  description = "Environment name (dev, staging, prod): prefixes every resource and names the Secrets Manager path emporium/<environment>/."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "region" {
  description = "AWS region of the whole environment."
  type        = string
}

variable "availability_zones" {
  description = "Exactly three availability zones of the region; each gets a public, a node and a data subnet."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) == 3
    error_message = "Give exactly three availability zones."
  }
}

variable "vpc_cidr" {
  description = "The VPC's range; the overlay's data-store NetworkPolicies allow egress to it (deploy/k8s/overlays/<environment>)."
  type        = string
}

variable "single_nat_gateway" {
  description = "One NAT gateway for the VPC instead of one per zone (cheaper, not zone-redundant)."
  type        = bool
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version (one in standard support)."
  type        = string
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "Addresses allowed to reach the EKS API endpoint from outside the VPC (operators, CI)."
  type        = list(string)
}

variable "node_instance_types" {
  description = "Instance types of the managed node group."
  type        = list(string)
}

variable "node_min_size" {
  description = "Fewest nodes of the managed node group."
  type        = number
}

variable "node_max_size" {
  description = "Most nodes of the managed node group."
  type        = number
}

variable "node_desired_size" {
  description = "Nodes the group starts with (the cluster autoscaler changes it afterwards)."
  type        = number
}

variable "db_instance_class" {
  description = "RDS instance class of the PostgreSQL database."
  type        = string
}

variable "db_allocated_storage" {
  description = "RDS storage in GiB at creation (it grows up to ten times this by itself)."
  type        = number
}

variable "db_multi_az" {
  description = "Run the database with a standby in a second zone (required in prod)."
  type        = bool
}

variable "db_backup_retention_days" {
  description = "Days of automated backups and point-in-time recovery (7 to 35)."
  type        = number

  validation {
    condition     = var.db_backup_retention_days >= 7 && var.db_backup_retention_days <= 35
    error_message = "Keep backups for 7 to 35 days."
  }
}

variable "db_deletion_protection" {
  description = "Refuse to delete the database (required in prod)."
  type        = bool
}

variable "redis_node_type" {
  description = "ElastiCache node type of the Redis replication group."
  type        = string
}

variable "redis_replicas" {
  description = "Read replicas beside the Redis primary (0 for one node; 1 or more enables automatic failover)."
  type        = number
}

variable "mq_instance_type" {
  description = "Amazon MQ broker instance type."
  type        = string
}

variable "mq_cluster" {
  description = "Run RabbitMQ as a three-node cluster over the zones instead of a single instance."
  type        = bool
}

variable "mail_domain" {
  description = "Domain Emporium sends e-mail from (SES identity, DKIM-signed)."
  type        = string
}

variable "hostname" {
  description = "Public host of the shop (the overlay's Ingress host); an ACM certificate is requested for it."
  type        = string
}

variable "github_repository" {
  description = "GitHub repository (owner/name) whose workflows on main may push images to ECR."
  type        = string
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub OIDC provider (only one per account: false where another stack made it)."
  type        = bool
}
