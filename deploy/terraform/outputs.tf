# Where each output goes in deploy/k8s/overlays/<environment>
# (docs/operations.md, "From Terraform to the overlays").

output "vpc_cidr" {
  description = "The VPC range: the egress-* NetworkPolicy patch of the overlay."
  value       = module.network.vpc_cidr
}

output "cluster_name" {
  description = "EKS cluster name: aws eks update-kubeconfig --name <this>."
  value       = module.eks.cluster_name
}

output "ecr_repository_url" {
  description = "The image repository: the overlay's images[].newName."
  value       = module.ecr.repository_url
}

output "ci_role_arn" {
  description = "Role the CI workflow assumes through GitHub OIDC to push images (repository variable AWS_ECR_ROLE_ARN)."
  value       = module.github_oidc.role_arn
}

output "app_role_arn" {
  description = "IRSA role of the ServiceAccount emporium: the overlay's patches/serviceaccount.yaml."
  value       = module.irsa_app.role_arn
}

output "load_balancer_controller_role_arn" {
  description = "IRSA role for the AWS Load Balancer Controller's ServiceAccount (its Helm value serviceAccount.annotations)."
  value       = module.irsa_load_balancer_controller.role_arn
}

output "app_secret_name" {
  description = "Secrets Manager entry the overlay's ExternalSecret reads (secrets.yaml, remoteRef.key)."
  value       = module.secrets.name
}

output "certificate_arn" {
  description = "ACM certificate of the shop's host: the overlay's patches/ingress.yaml."
  value       = aws_acm_certificate.shop.arn
}

output "certificate_validation" {
  description = "DNS records that validate the certificate."
  value       = aws_acm_certificate.shop.domain_validation_options
}

output "database_endpoint" {
  description = "RDS endpoint (inside the VPC only)."
  value       = "${module.rds.address}:${module.rds.port}"
}

output "ses_dkim_tokens" {
  description = "CNAME records to publish for SES DKIM."
  value       = module.ses.dkim_tokens
}

output "ci_terraform_plan_role_arn" {
  description = "CI's read-only Terraform plan role: the repository variable AWS_TF_PLAN_ROLE_ARN_<ENV> (upper-case environment)."
  value       = module.github_oidc.plan_role_arn
}
