// Starts s3rver (a fake S3 server) on 127.0.0.1 on a free port, with one bucket, and prints
// "s3rver listening PORT" once it accepts requests. Stops on SIGTERM or when stdin closes (so
// it never outlives the test that started it).
// Usage: node tests/s3/s3rver.mjs DIRECTORY [BUCKET] [PORT]
import S3rver from 's3rver';

const [directory, bucket = 'ingestd-test', port = '0'] = process.argv.slice(2);
if (!directory) {
  console.error('usage: s3rver.mjs DIRECTORY [BUCKET] [PORT]');
  process.exit(2);
}
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  silent: true,
  directory,
  configureBuckets: [{ name: bucket }],
});
const address = await server.run();
console.log(`s3rver listening ${address.port}`);
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
