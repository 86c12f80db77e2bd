'use strict';
/**
 * `serverless package` offline: the framework asks CloudFormation for the deployed stack to reuse an
 * unchanged layer upload, which needs AWS credentials and the network. With OPENVOD_OFFLINE_PACKAGE=1
 * (set by `npm run package`), that single lookup answers "stack does not exist", exactly as for a first
 * deployment, and packaging needs no account. `serverless deploy` never sets the variable.
 */
class OfflinePackage {
  constructor(serverless) {
    if (process.env.OPENVOD_OFFLINE_PACKAGE !== '1') return;
    const provider = serverless.getProvider('aws');
    const request = provider.request.bind(provider);
    provider.request = (service, method, params, ...rest) => {
      if (service === 'CloudFormation' && method === 'describeStacks') {
        return Promise.reject(new Error(`Stack with id ${params && params.StackName} does not exist (offline package)`));
      }
      return request(service, method, params, ...rest);
    };
  }
}
module.exports = OfflinePackage;
