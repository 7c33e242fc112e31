# rapportkit's hardened Voilà configuration (read by `rapportkit serve`).
# Ports, address, token and the notebook folder come from the command line; everything
# that makes the pages safe, offline and reliable is fixed here.
from rapportkit.serve import home, settings
from rapportkit.serve.poolclock import DashboardKernelClient
from rapportkit.serve.wsguard import GuardedWebsocketConnection

c = get_config()  # noqa: F821

# Offline: our template drops the public-CDN links; viewers may not switch templates back.
c.VoilaConfiguration.template = "rapportkit"
c.VoilaConfiguration.allow_template_override = "NO"
c.VoilaConfiguration.allow_theme_override = "NO"

# Viewers see outputs only: no sources, no tracebacks (errors are logged on the server).
c.VoilaConfiguration.strip_sources = True
c.VoilaConfiguration.show_tracebacks = False
c.VoilaExecutor.cell_error_instruction = (
    "This dashboard could not be shown. The details are in the server log; please tell your programme's administrator."
)

# Serve no files at all: the database (and anything else) can never be downloaded.
c.VoilaConfiguration.file_allowlist = []
c.VoilaConfiguration.file_denylist = [r".*"]

# Kernels of viewers who left are shut down; the preheated pool is never culled, and a
# kernel's idle time starts when a viewer takes it from the pool (poolclock.py).
c.VoilaConfiguration.multi_kernel_manager_class = "rapportkit.serve.poolclock.PoolAwareKernelManager"
c.MappingKernelManager.cull_idle_timeout = 60
c.MappingKernelManager.cull_interval = 15
c.MappingKernelManager.cull_connected = False
c.MappingKernelManager.cull_busy = False

# Never hang at "Running …" (rapportkit/serve/zmqfix.py), and never time out in the
# preheated pool: a cell's limit counts from the moment a viewer takes the kernel
# (rapportkit/serve/poolclock.py). RAPPORTKIT_CELL_TIMEOUT, seconds, default 120.
c.KernelManager.client_factory = DashboardKernelClient
c.VoilaExecutor.timeout = int(settings.read("RAPPORTKIT_CELL_TIMEOUT"))
# A form announces ~1,100 widget messages after its cell replies; under load the server
# needs longer than nbclient's default 4 s to take them in, and the output was dropped.
c.VoilaExecutor.iopub_timeout = 30

# What a page sends its kernel is bounded in size, shape and rate before anything is
# built from it (rapportkit/serve/wsguard.py; RAPPORTKIT_WS_MAX_BYTES, _RATE, _BURST).
# tornado refuses an oversize frame from its header, before reading its payload.
c.Voila.kernel_websocket_connection_class = GuardedWebsocketConnection
_max_ws_bytes = int(settings.read("RAPPORTKIT_WS_MAX_BYTES"))

# The home page at / is the template's tree.html, rendered on the server (home.py): a
# sentence on each dashboard and one link, no file listing, no script.
c.VoilaConfiguration.classic_tree = True

# Belt and braces for offline use: the browser refuses anything from another origin.
_csp = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
c.Voila.tornado_settings = {
    "websocket_max_message_size": _max_ws_bytes,
    "jinja_template_vars": home.template_vars(),
    "headers": {
        "Content-Security-Policy": _csp,
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
    }
}
