// FleetFunctions on Azure: a Flex Consumption function app running the custom handler, the storage account
// that holds the engine's tables, queues and payload blobs, Key Vault for the secrets that GitSource and
// Cluster resources name, Application Insights, and one user-assigned managed identity with exactly the
// roles it needs. No shared keys: storage and Application Insights accept Entra ID tokens only.
//
// Compile: scripts/infra.sh   (lint, then build to artifacts/infra/main.json with the Bicep CLI from the NuGet
//          package Azure.Bicep.CommandLine.linux-x64; an argument names another output folder)
// Deploy:  az deployment group create -g <group> -f infra/bicep/main.bicep -p platformRepository=<url>
//          then scripts/publish.sh and deploy artifacts/functionapp (README, "Deploying").

targetScope = 'resourceGroup'

@description('Prefix of every resource name: 3-11 lower-case letters and digits.')
@minLength(3)
@maxLength(11)
param name string = 'fleetfn'

@description('Region of every resource. It must offer the Flex Consumption plan.')
param location string = resourceGroup().location

@description('Clone URL of the platform repository (GitSource, Cluster and ClusterFleet resources, policies).')
param platformRepository string

@description('Branch of the platform repository to follow.')
param platformBranch string = 'main'

@description('Folder of the platform repository with the resources.')
param platformPath string = '.'

@description('Name of the secret (one of secretNames) holding the platform repository\'s credentials: a token, or user:password. Empty: fetched without credentials.')
param platformRepositoryCredentialsRef string = ''

@description('Host keys of an SSH platform repository (ssh://… or git@host:path): known_hosts lines, as ssh-keyscan prints them once the fingerprints are checked; platformRepositoryCredentialsRef then names the private key. Empty: not SSH.')
param platformRepositoryKnownHosts string = ''

@description('GitHub App the platform repository is fetched as: its ID (with platformGitHubAppInstallationId; platformRepositoryCredentialsRef then names the App\'s private key). Empty: no App.')
param platformGitHubAppId string = ''

@description('Installation ID of the GitHub App of platformGitHubAppId.')
param platformGitHubAppInstallationId string = ''

@description('GitHub Enterprise Server\'s REST API for the GitHub App (https://HOST/api/v3). Empty: api.github.com.')
param platformGitHubAppBaseUrl string = ''

@description('PEM text of CA certificates trusted for HTTPS Git remotes besides the system\'s (a self-hosted Git server with a private CA). Empty: the system\'s only.')
param gitCaCertificates string = ''

@description('Name of the secret holding FleetFunctions\' sealing key and certificate (PEM from `fleetfunctions sealing-key new`): SealedSecrets in Git are sealed for its certificate (GET /api/sealing/cert.pem) and re-sealed for each Cluster\'s sealingCertificate. List it in secretNames too, and set its value in Key Vault.')
param sealingKeyRef string = 'sealing-key'

@description('Durable task hub name: prefixes the engine\'s tables and queues (lower-case letters and digits); the queue triggers in function.json follow it through the FLEETFUNCTIONS_TaskHub setting.')
param taskHub string = 'fleethub'

@description('Prometheus base URL for canary analysis; empty: canary analysis is inconclusive and canaries roll back.')
param prometheusUrl string = ''

@description('NCRONTAB schedule (with seconds) of the drift sweep.')
param driftSweepSchedule string = '0 */5 * * * *'

@description('NCRONTAB schedule (with seconds) of the engine\'s upkeep (resending orphaned outbox rows, redriving stalled instances).')
param engineMaintenanceSchedule string = '*/30 * * * * *'

@description('Secrets the platform repository names in secretRef / webhookSecretRef / credentialsRef. Each becomes the app setting FLEETFUNCTIONS_SECRET_<NAME> as a Key Vault reference to the Key Vault secret of the same name; set the values in Key Vault.')
param secretNames array = []

@description('Most instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each instance, in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Tags applied to every resource.')
param tags object = {}

var suffix = uniqueString(resourceGroup().id, name)
var storageName = take('${name}${suffix}', 24)
var deploymentContainer = 'deployments'

// Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${name}-id-${suffix}'
  location: location
  tags: tags
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource deployments 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainer
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: take('${name}-kv-${suffix}', 24)
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 30
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${name}-logs-${suffix}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${name}-ai-${suffix}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${name}-plan-${suffix}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

var appName = '${name}-app-${suffix}'

var baseSettings = [
  // The Functions host's own storage (queue triggers, timers, keys): identity-based, no connection string.
  { name: 'AzureWebJobsStorage__accountName', value: storage.name }
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: identity.properties.clientId }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identity.properties.clientId};Authorization=AAD' }
  // The app's settings (README, "Configuration").
  { name: 'FLEETFUNCTIONS_PlatformRepository', value: platformRepository }
  { name: 'FLEETFUNCTIONS_PlatformBranch', value: platformBranch }
  { name: 'FLEETFUNCTIONS_PlatformPath', value: platformPath }
  { name: 'FLEETFUNCTIONS_TaskHub', value: taskHub }
  { name: 'FLEETFUNCTIONS_SealingKeySecret', value: sealingKeyRef }
  { name: 'FLEETFUNCTIONS_DriftSweepSchedule', value: driftSweepSchedule }
  { name: 'FLEETFUNCTIONS_PlatformRefreshSchedule', value: '0 */1 * * * *' }
  { name: 'FLEETFUNCTIONS_EngineMaintenanceSchedule', value: engineMaintenanceSchedule }
  { name: 'FLEETFUNCTIONS_CacheDirectory', value: '/tmp/fleetfunctions' }
  // The host forwards requests to the handler over plain HTTP: status links must name the public https address.
  { name: 'FLEETFUNCTIONS_PublicBaseUrl', value: 'https://${appName}.azurewebsites.net/' }
]
var prometheusSettings = empty(prometheusUrl) ? [] : [{ name: 'FLEETFUNCTIONS_PrometheusUrl', value: prometheusUrl }]
var gitSettings = concat(
  empty(platformRepositoryCredentialsRef) ? [] : [{ name: 'FLEETFUNCTIONS_PlatformRepositorySecret', value: platformRepositoryCredentialsRef }],
  empty(gitCaCertificates) ? [] : [{ name: 'FLEETFUNCTIONS_GitCaCertificates', value: gitCaCertificates }],
  empty(platformRepositoryKnownHosts) ? [] : [{ name: 'FLEETFUNCTIONS_PlatformRepositoryKnownHosts', value: platformRepositoryKnownHosts }],
  empty(platformGitHubAppId) ? [] : [
    { name: 'FLEETFUNCTIONS_PlatformGitHubAppId', value: platformGitHubAppId }
    { name: 'FLEETFUNCTIONS_PlatformGitHubAppInstallationId', value: platformGitHubAppInstallationId }
  ],
  empty(platformGitHubAppBaseUrl) ? [] : [{ name: 'FLEETFUNCTIONS_PlatformGitHubAppBaseUrl', value: platformGitHubAppBaseUrl }])
var secretSettings = [for secret in secretNames: {
  name: 'FLEETFUNCTIONS_SECRET_${toUpper(replace(replace(secret, '-', '_'), '.', '_'))}'
  value: '@Microsoft.KeyVault(VaultName=${vault.name};SecretName=${secret})'
}]

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: { name: 'custom', version: '1.0' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: concat(baseSettings, prometheusSettings, gitSettings, secretSettings)
    }
  }
  dependsOn: [
    deployments
  ]
}

resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in [
  roles.storageBlobDataOwner
  roles.storageQueueDataContributor
  roles.storageTableDataContributor
]: {
  name: guid(storage.id, identity.id, role)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}]

resource vaultRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource insightsRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: insights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

output functionAppName string = app.name
output functionAppUrl string = 'https://${app.properties.defaultHostName}'
output storageAccountName string = storage.name
output keyVaultName string = vault.name
output identityClientId string = identity.properties.clientId
