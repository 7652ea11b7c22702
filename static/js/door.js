// The door page: read a pass QR with the camera and look it up (submits the search form).
// BarcodeDetector where the browser has it, else the vendored jsQR (static/vendor/jsqr).
// Without a camera (or permission) the typed reference still works: the form is plain HTML.
(function () {
  "use strict";
  var form = document.querySelector("[data-door-form]");
  if (!form) return;
  var box = form.querySelector("[data-camera]");
  var video = form.querySelector("[data-video]");
  var startButton = form.querySelector("[data-start-camera]");
  var noCamera = form.querySelector("[data-no-camera]");
  var input = form.querySelector("input[name=code]");
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var detector = null;
  var stream = null;
  var done = false;

  function found(text) {
    if (done || !text) return;
    done = true;
    input.value = text;
    stop();
    form.submit();
  }

  function stop() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
  }

  function decodeFrame() {
    if (done || !stream) return;
    if (video.readyState < 2) { requestAnimationFrame(decodeFrame); return; }
    if (detector) {
      detector.detect(video).then(function (codes) {
        if (codes.length) found(codes[0].rawValue); else setTimeout(decodeFrame, 120);
      }, function () { detector = null; setTimeout(decodeFrame, 120); });
      return;
    }
    var w = video.videoWidth, h = video.videoHeight;
    if (w && h && window.jsQR) {
      canvas.width = w; canvas.height = h;
      context.drawImage(video, 0, 0, w, h);
      var result = window.jsQR(context.getImageData(0, 0, w, h).data, w, h,
                               { inversionAttempts: "dontInvert" });
      if (result && result.data) { found(result.data); return; }
    }
    setTimeout(decodeFrame, 150);
  }

  function start() {
    done = false;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        box.hidden = false;
        startButton.hidden = true;
        return video.play();
      })
      .then(decodeFrame)
      .catch(function () {
        stop();
        box.hidden = true;
        noCamera.hidden = false;
        startButton.hidden = false;
      });
  }

  function prepareDetector() {
    if (!("BarcodeDetector" in window)) return Promise.resolve();
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") >= 0) {
        detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      }
    }, function () {});
  }

  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    noCamera.hidden = false;
    return;
  }
  startButton.hidden = false;
  startButton.addEventListener("click", start);
  window.addEventListener("pagehide", stop);
  // Scan straight away unless a group's card is open (then one tap scans the next group).
  prepareDetector().then(function () {
    if (!document.querySelector("[data-door-card]")) start();
  });
})();
