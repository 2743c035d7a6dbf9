# mitmproxy addon for keygate's benchmark: discord.com goes to the local emulator (mitmproxy has no
# --connect-to). SNI and certificate checks stay those of discord.com, verified against the
# emulator's CA (--set ssl_verify_upstream_trusted_ca=...).
import os

EMULATOR = ("127.0.0.1", int(os.environ["KEYGATE_BENCH_EMULATOR_PORT"]))


def server_connect(data):
    if data.server.address and data.server.address[0] == "discord.com":
        data.server.address = EMULATOR
