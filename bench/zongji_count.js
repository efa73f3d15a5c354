// zongji_count.js - the @vlasky/zongji peer of bench_decode: streams the
// binlog from FILE:POS, counts row changes (rows of write/update/delete row
// events, decoded by zongji) and exits 0 when COUNT have arrived.
// usage: ZONGJI_PASSWORD=... node zongji_count.js HOST PORT USER FILE POS COUNT SERVER_ID
'use strict';

async function main() {
  const [host, port, user, file, pos, count, serverId] = process.argv.slice(2);
  const want = Number(count);
  const { default: ZongJi } = await import('@vlasky/zongji');
  const z = new ZongJi({ host, port: Number(port), user, password: process.env.ZONGJI_PASSWORD });
  let n = 0;
  z.on('error', (err) => {
    console.error('zongji error:', err && err.message ? err.message : err);
    process.exit(1);
  });
  z.on('binlog', (evt) => {
    if (evt.rows) {
      n += evt.rows.length;
      if (n >= want) {
        process.stdout.write(String(n) + '\n', () => process.exit(0));
      }
    }
  });
  z.start({
    includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows'],
    filename: file,
    position: Number(pos),
    serverId: Number(serverId),
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
