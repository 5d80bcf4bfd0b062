"""Diagnostic only: can an X-less EGL context (EGL_EXT_platform_device, pbuffer, GLES2) be made here, and what
renderer does it report? headless-gl's bundled ANGLE cannot use this path (it only has the GLX display on Linux),
but the answer says whether a rebuilt/alternative binding could run without Xvfb. Prints one EGL_PROBE line."""
import ctypes as C
import json
import sys

out = {"ok": False}
try:
    egl = C.CDLL("libEGL.so.1")
    gpa = egl.eglGetProcAddress
    gpa.restype = C.c_void_p
    gpa.argtypes = [C.c_char_p]
    egl.eglQueryString.restype = C.c_char_p
    egl.eglQueryString.argtypes = [C.c_void_p, C.c_int]
    out["client_extensions"] = (egl.eglQueryString(None, 0x3055) or b"").decode()
    qd_p = gpa(b"eglQueryDevicesEXT")
    gpd_p = gpa(b"eglGetPlatformDisplayEXT")
    if not qd_p or not gpd_p:
        raise RuntimeError("no eglQueryDevicesEXT / eglGetPlatformDisplayEXT")
    QD = C.CFUNCTYPE(C.c_uint, C.c_int, C.POINTER(C.c_void_p), C.POINTER(C.c_int))(qd_p)
    GPD = C.CFUNCTYPE(C.c_void_p, C.c_uint, C.c_void_p, C.POINTER(C.c_int))(gpd_p)
    devs = (C.c_void_p * 16)()
    n = C.c_int(0)
    if not QD(16, devs, C.byref(n)):
        raise RuntimeError("eglQueryDevicesEXT failed")
    out["devices"] = n.value
    qds_p = gpa(b"eglQueryDeviceStringEXT")
    QDS = C.CFUNCTYPE(C.c_char_p, C.c_void_p, C.c_int)(qds_p) if qds_p else None
    out["device_extensions"] = [(QDS(devs[i], 0x3055) or b"").decode() if QDS else "?" for i in range(n.value)]
    egl.eglInitialize.argtypes = [C.c_void_p, C.POINTER(C.c_int), C.POINTER(C.c_int)]
    egl.eglChooseConfig.argtypes = [C.c_void_p, C.POINTER(C.c_int), C.POINTER(C.c_void_p), C.c_int, C.POINTER(C.c_int)]
    egl.eglCreateContext.restype = C.c_void_p
    egl.eglCreateContext.argtypes = [C.c_void_p, C.c_void_p, C.c_void_p, C.POINTER(C.c_int)]
    egl.eglCreatePbufferSurface.restype = C.c_void_p
    egl.eglCreatePbufferSurface.argtypes = [C.c_void_p, C.c_void_p, C.POINTER(C.c_int)]
    egl.eglMakeCurrent.argtypes = [C.c_void_p, C.c_void_p, C.c_void_p, C.c_void_p]
    egl.eglGetError.restype = C.c_int
    tried = []
    for i in range(n.value):
        dpy = GPD(0x313F, devs[i], None)  # EGL_PLATFORM_DEVICE_EXT
        ma, mi = C.c_int(), C.c_int()
        if not dpy or not egl.eglInitialize(dpy, C.byref(ma), C.byref(mi)):
            tried.append({"device": i, "error": "eglInitialize 0x%x" % egl.eglGetError()})
            continue
        vendor = (egl.eglQueryString(dpy, 0x3053) or b"").decode()
        egl.eglBindAPI(0x30A0)  # EGL_OPENGL_ES_API
        attrs = (C.c_int * 7)(0x3033, 0x0001, 0x3040, 0x0004, 0x3038, 0, 0)  # PBUFFER_BIT, ES2_BIT
        cfg = C.c_void_p()
        nc = C.c_int()
        if not egl.eglChooseConfig(dpy, attrs, C.byref(cfg), 1, C.byref(nc)) or nc.value < 1:
            tried.append({"device": i, "vendor": vendor, "error": "no pbuffer/ES2 config"})
            continue
        ctx = egl.eglCreateContext(dpy, cfg, None, (C.c_int * 3)(0x3098, 2, 0x3038))
        surf = egl.eglCreatePbufferSurface(dpy, cfg, (C.c_int * 5)(0x3057, 16, 0x3056, 16, 0x3038))
        if not ctx or not surf or not egl.eglMakeCurrent(dpy, surf, surf, ctx):
            tried.append({"device": i, "vendor": vendor, "error": "context/pbuffer 0x%x" % egl.eglGetError()})
            continue
        gles = C.CDLL("libGLESv2.so.2")
        gles.glGetString.restype = C.c_char_p
        gles.glGetString.argtypes = [C.c_uint]
        out.update(ok=True, device=i, egl_vendor=vendor, egl_version="%d.%d" % (ma.value, mi.value),
                   gl_vendor=(gles.glGetString(0x1F00) or b"").decode(), gl_renderer=(gles.glGetString(0x1F01) or b"").decode(),
                   gl_version=(gles.glGetString(0x1F02) or b"").decode())
        break
    out["tried"] = tried
except Exception as e:  # noqa: BLE001 - diagnostic: report anything
    out["error"] = "%s: %s" % (type(e).__name__, e)
out["client_extensions"] = out.pop("client_extensions", "")[:400]  # last: the line is long
print("EGL_PROBE " + json.dumps(out))
sys.exit(0 if out["ok"] else 1)
