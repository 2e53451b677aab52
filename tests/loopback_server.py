"""A loopback HTTP server for download tests: serves in-memory files on 127.0.0.1 with Range
support, can cut a response short, serve a Google Drive style confirm page, answers the
HEAD metadata request huggingface_hub makes (commit and ETag headers), and records every
request. Started and stopped by the tests; never reaches beyond this machine."""
import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class LoopbackServer:

    def __init__(self):
        self.files = {}  # path -> bytes
        self.cut_once = set()  # paths whose first response stops halfway
        self.requests = []  # (path with query, Range header)
        self.gdrive = {}  # id -> bytes, behind a confirm page
        self.pages = {}  # path -> HTML served as text/html
        self.slow = {}  # path -> seconds to wait before sending its body
        server = self

        class Handler(BaseHTTPRequestHandler):

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                server.requests.append(('HEAD ' + self.path, None))
                data = server.files.get(urlparse(self.path).path)
                if data is None:
                    self.send_error(404, 'Not Found')
                    return
                self.send_response(200)
                self.send_header('X-Repo-Commit', 'c' * 40)
                self.send_header('ETag', f'"{hashlib.sha256(data).hexdigest()}"')
                self.send_header('Content-Length', str(len(data)))
                self.send_header('Content-Type', 'application/octet-stream')
                self.end_headers()

            def do_GET(self):
                server.requests.append((self.path, self.headers.get('Range')))
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path in server.pages:
                    return self.send_html(server.pages[url.path])
                if url.path == '/uc' and query.get('id') in server.gdrive:
                    return self.confirm_page(query['id'])
                if url.path == '/download' and query.get('confirm') == 't':
                    return self.send_bytes(server.gdrive[query['id']], url.path)
                if url.path not in server.files:
                    self.send_error(404, 'Not Found')
                    return
                self.send_bytes(server.files[url.path], url.path)

            def confirm_page(self, file_id):
                page = ('<html><body>Google Drive can\'t scan this file for viruses.'
                        '<form id="download-form" action="/download" method="get">'
                        '<input type="submit" value="Download anyway"/>'
                        f'<input type="hidden" name="id" value="{file_id}">'
                        '<input type="hidden" name="export" value="download">'
                        '<input type="hidden" name="confirm" value="t">'
                        '<input type="hidden" name="uuid" value="1234-abcd"></form>'
                        '</body></html>')
                self.send_html(page)

            def send_html(self, page):
                page = page.encode()
                self.send_response(200)
                self.send_header('Content-Type', 'text/html; charset=utf-8')
                self.send_header('Content-Length', str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def send_bytes(self, data, path):
                start, status = 0, 200
                ranged = self.headers.get('Range')
                if ranged and ranged.startswith('bytes='):
                    start, status = int(ranged[6:].split('-')[0]), 206
                    if start >= len(data):
                        self.send_error(416, 'Range Not Satisfiable')
                        return
                body = data[start:]
                self.send_response(status)
                self.send_header('Content-Type', 'application/octet-stream')
                self.send_header('Content-Length', str(len(body)))
                if status == 206:
                    self.send_header('Content-Range', f'bytes {start}-{len(data) - 1}/{len(data)}')
                self.end_headers()
                time.sleep(server.slow.get(path, 0))
                if path in server.cut_once:
                    server.cut_once.discard(path)
                    self.wfile.write(body[:len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}'
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)
