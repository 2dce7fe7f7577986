/** sink: hands the record to the connector's writer. */
import { siteLabel } from '../inline.ts';
import { connectorClass } from '../connectors.ts';
import type { NodeEmitter } from '../context.ts';

export const Sink: NodeEmitter<'sink'> = (node, ctx, gen) => {
  const { module, name } = connectorClass(node.spec.connector, 'sink');
  gen.importFrom(module, name);
  const sink = gen.declare(`sink${node.id}`, `env.sink(${node.id}, (c) => new ${name}(c))`, `${node.label} (${siteLabel(node.site)})`);
  ctx.w.line(`// ${node.label} (${siteLabel(node.site)})`, node.site);
  ctx.w.line(`${sink}.write(${ctx.input}, ${ctx.ts});`);
};
