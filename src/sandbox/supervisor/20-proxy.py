# The sandbox's only way out, when the request allows hosts: 127.0.0.1:PROXY_PORT inside, forwarded to the
# executor's proxy socket (network-proxy.ts). Part of the supervisor (10-base.py says how the parts are joined).
# Its modules are loaded only in a sandbox that has the socket: a few milliseconds of every other start.
if os.path.exists(PROTOCOL["proxy_socket"]):
    import socket
    import threading


def forward(client):
    """One sandbox TCP connection to the executor's proxy socket, both ways."""
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(PROXY_SOCKET)
    except OSError:
        client.close()
        return

    def pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
    pump(client, upstream)


def serve_proxy():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", PROXY_PORT))
    listener.listen(64)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=forward, args=(client,), daemon=True).start()
