# staging: terraform plan -var-file=environments/staging.tfvars
# (after terraform init -backend-config=environments/staging.s3.tfbackend).
environment        = "staging"
region             = "eu-west-1"
availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
vpc_cidr           = "10.1.0.0/16"
single_nat_gateway = true

kubernetes_version                   = "1.32"
cluster_endpoint_public_access_cidrs = ["203.0.113.0/24"]
node_instance_types                  = ["m6i.large"]
node_min_size                        = 3
node_max_size                        = 6
node_desired_size                    = 3

db_instance_class        = "db.t4g.large"
db_allocated_storage     = 50
db_multi_az              = false
db_backup_retention_days = 7
db_deletion_protection   = false

redis_node_type  = "cache.t4g.small"
redis_replicas   = 1
mq_instance_type = "mq.m5.large"
mq_cluster       = false

mail_domain = "staging.shop.example.com"
hostname    = "staging.shop.example.com"

github_repository           = "example/emporium"
create_github_oidc_provider = true
