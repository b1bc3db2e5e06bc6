// Temporal histories as JSON, in the format `temporal workflow show --output json` prints (proto3 JSON).
// @temporalio/common's historyToJSON/historyFromJSON fail in this install ("type must be a Type"): the lock
// holds two copies of protobufjs 8 (one under @temporalio/common, one under @temporalio/proto) and the JSON
// codec of one rejects the types built by the other. The codec used here is the one of the copy that
// @temporalio/proto's types are built with, so the two always match.
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

type History = proto.temporal.api.history.v1.IHistory;
interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved beside @temporalio/proto on purpose (see above)
const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [require.resolve('@temporalio/proto')] })) as ProtoJson;
const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');

export function historyToJson(history: History): unknown {
  return protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history));
}

export function historyFromJson(json: unknown): proto.temporal.api.history.v1.History {
  return protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as proto.temporal.api.history.v1.History;
}
