import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { settingsFromContext, type ContextKey } from './app-context';
import { bundlesIn } from './bundle-layout';
import { addNagSuppressions } from './nag-suppressions';
import { TunnelBrokerStack, type BrokerBundles } from './tunnel-broker-stack';

export interface BrokerAppOptions extends AppProps {
  /** Folder the bundles were built into (scripts/build-bundles.ts). */
  readonly distDir: string;
  /** Use these bundle folders instead of looking in distDir (tests). */
  readonly bundles?: BrokerBundles;
}

/**
 * The CDK app: one TunnelBrokerStack configured from context, with the AwsSolutions cdk-nag pack as a
 * validation plugin: synth fails on any finding not acknowledged with a reason in nag-suppressions.ts.
 */
export function createBrokerApp(options: BrokerAppOptions): { app: App; stack: TunnelBrokerStack } {
  const { distDir, bundles, ...appProps } = options;
  const app = new App(appProps);
  const settings = settingsFromContext((key: ContextKey) => app.node.tryGetContext(key));
  const stack = new TunnelBrokerStack(app, settings.stackName, {
    ...settings.props,
    bundles: bundles ?? bundlesIn(distDir),
    description: 'tunnel-broker: L2TP/IPsec tunnel broker (API, table, edge fleet)',
  });
  addNagSuppressions(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }));
  return { app, stack };
}
