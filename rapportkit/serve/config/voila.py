# rapportkit's hardened Voilà configuration (read by `rapportkit serve`).
# Ports, address, token and the notebook folder come from the command line; everything
# that makes the pages safe, offline and reliable is fixed here.
from rapportkit.serve.zmqfix import SlicedPollKernelClient

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

# Kernels of viewers who left are shut down; the preheated pool is never culled.
c.MappingKernelManager.cull_idle_timeout = 60
c.MappingKernelManager.cull_interval = 15
c.MappingKernelManager.cull_connected = False
c.MappingKernelManager.cull_busy = False

# Never hang at "Running …": see rapportkit/serve/zmqfix.py.
c.KernelManager.client_factory = SlicedPollKernelClient
c.VoilaExecutor.timeout = 120
# A form announces ~1,100 widget messages after its cell replies; under load the server
# needs longer than nbclient's default 4 s to take them in, and the output was dropped.
c.VoilaExecutor.iopub_timeout = 30

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
    "headers": {
        "Content-Security-Policy": _csp,
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
    }
}
