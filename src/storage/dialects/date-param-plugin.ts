import {
  type KyselyPlugin,
  OperationNodeTransformer,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  PrimitiveValueListNode,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
  ValueNode,
} from 'kysely';

/**
 * Binds a JavaScript Date as the canonical timestamp text (`toISOString()`), as the SQLite wrapper
 * does. Left to the drivers, a Date becomes three different texts: pg sends local time with an
 * offset (`2024-02-29T07:34:56.789-05:00` under TZ=America/New_York, which depends on the process
 * time zone and overflows MySQL's CHAR(24)), mysql2 sends `2024-02-29 12:34:56.789`. Timestamp
 * columns are text compared bytewise, so any of those would sort and hash wrong.
 */
const canonical = (v: unknown): unknown => (v instanceof Date ? v.toISOString() : v);

class DateToIsoTransformer extends OperationNodeTransformer {
  protected override transformValue(node: ValueNode): ValueNode {
    if (!(node.value instanceof Date)) return node;
    return node.immediate
      ? ValueNode.createImmediate(canonical(node.value))
      : ValueNode.create(canonical(node.value));
  }
  protected override transformPrimitiveValueList(node: PrimitiveValueListNode): PrimitiveValueListNode {
    return node.values.some((v) => v instanceof Date)
      ? PrimitiveValueListNode.create(node.values.map(canonical))
      : node;
  }
}

export class DateParamPlugin implements KyselyPlugin {
  private readonly transformer = new DateToIsoTransformer();
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.transformer.transformNode(args.node);
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}
