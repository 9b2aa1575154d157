// SPDX-License-Identifier: MIT
//
// Reads a floe recording with the official TypeScript MCAP library
// (@mcap/core, installed by scripts/deps.sh outside the tree), as an
// independent check of floe's writer: both its readers, the streaming one
// (chunk CRCs checked) and the indexed one (summary, chunk and message
// indexes, summary CRC checked), must see the same messages, the data
// section's CRC must be right, the statistics must count them.
//
// Usage: node mcap_check.cjs NPM_DIR FILE
// Prints "channel TOPIC TYPE SIZE ALIGN USER_HEADER" per channel, then
// "message TOPIC PUBLISHER SEQUENCE HEX" per message in file order (the
// floe sample header decoded). Exits 1 with the reason on any mismatch.
"use strict";

const fs = require("fs");
const path = require("path");
const zlib = require("zlib");
const { execFileSync } = require("child_process");
const { createRequire } = require("module");

const [npmDir, file] = process.argv.slice(2);
const load = createRequire(path.join(path.resolve(npmDir), "package.json"));
const { McapStreamReader, McapIndexedReader } = load("@mcap/core");
const { crc32 } = load("@foxglove/crc");

function fail(why) {
  process.stderr.write(`mcap_check: ${why}\n`);
  process.exit(1);
}

// zstd from Node itself where it has it, else from the zstd tool
function unzstd(data, size) {
  const out = zlib.zstdDecompressSync
    ? zlib.zstdDecompressSync(data)
    : execFileSync("zstd", ["-d", "-c", "-q"], { input: data });
  if (BigInt(out.length) !== size) fail(`chunk of ${out.length} bytes, not ${size}`);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
const decompressHandlers = { zstd: unzstd };

function describe(channel, msg) {
  const meta = channel.metadata;
  const uh = Number(meta.get("floe.user_header_size"));
  const data = Buffer.from(msg.data);
  if (data.length < 16 + uh) fail(`message of ${data.length} bytes`);
  const publisher = data.readBigUInt64LE(0);
  const sequence = data.readBigUInt64LE(8);
  if (Number(sequence & 0xffffffffn) !== msg.sequence)
    fail(`MCAP sequence ${msg.sequence} is not floe's ${sequence}`);
  if (msg.publishTime !== msg.logTime) fail("publish time differs from log time");
  const hex = data.subarray(16 + uh).toString("hex");
  return `message ${channel.topic} ${publisher} ${sequence} ${hex || "-"}`;
}

async function main() {
  const buf = fs.readFileSync(file);
  const u8 = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);

  // streaming, in file order
  const stream = new McapStreamReader({ decompressHandlers, validateCrcs: true });
  stream.append(u8);
  const channels = new Map();
  const streamed = [];
  let footer = false;
  for (let rec; (rec = stream.nextRecord()); ) {
    if (rec.type === "Channel") channels.set(rec.id, rec);
    if (rec.type === "Message") streamed.push({ line: describe(channels.get(rec.channelId), rec), rec });
    if (rec.type === "Footer") footer = true;
  }
  if (!footer || !stream.done()) fail("the streaming reader did not reach the footer");

  // indexed: summary, chunk indexes, message indexes
  const readable = {
    size: async () => BigInt(buf.length),
    read: async (offset, length) => u8.subarray(Number(offset), Number(offset + length)),
  };
  const indexed = await McapIndexedReader.Initialize({ readable, decompressHandlers });
  const viaIndex = [];
  for await (const msg of indexed.readMessages()) {
    viaIndex.push({ line: describe(indexed.channelsById.get(msg.channelId), msg), rec: msg });
  }
  const order = (a, b) =>
    a.rec.logTime < b.rec.logTime ? -1 : a.rec.logTime > b.rec.logTime ? 1 : a.line < b.line ? -1 : a.line > b.line;
  const a = [...streamed].sort(order).map((m) => m.line).join("\n");
  const b = [...viaIndex].sort(order).map((m) => m.line).join("\n");
  if (a !== b) fail(`the readers disagree:\n${a}\n---\n${b}`);

  const crc = crc32(u8.subarray(0, Number(indexed.dataEndOffset)));
  if (indexed.dataSectionCrc !== undefined && indexed.dataSectionCrc !== crc)
    fail(`data section CRC ${indexed.dataSectionCrc}, computed ${crc}`);
  if (indexed.dataSectionCrc === undefined) fail("no data section CRC");
  const stats = indexed.statistics;
  if (!stats || stats.messageCount !== BigInt(streamed.length))
    fail(`statistics count ${stats && stats.messageCount}, read ${streamed.length}`);
  if (indexed.chunkIndexes.length !== stats.chunkCount) fail("chunk indexes and statistics differ");

  for (const ch of indexed.channelsById.values()) {
    const m = ch.metadata;
    console.log(`channel ${ch.topic} ${m.get("floe.type")} ${m.get("floe.type_size")} ` +
      `${m.get("floe.type_align")} ${m.get("floe.user_header_size")} ${ch.messageEncoding}`);
  }
  for (const m of streamed) console.log(m.line);
}

main().catch((e) => fail(e.message || String(e)));
