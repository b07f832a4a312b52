/// The console's one script, served from `/static/console.js` (the CSP allows no inline script, and
/// no script from anywhere else). Every page works without it; on a call page with granted playback
/// it follows the audio in the transcript:
///
/// - the line whose time span holds the `<audio>` element's `currentTime` is highlighted (class
///   `playing`, `aria-current="true"`), as the audio plays and when it is seeked;
/// - each line's time is a button (rendered by the server, so keyboard focus and Enter/Space work as
///   for any button): pressing it seeks the audio to the line's start and plays.
///
/// It reads only `data-start-ms`/`data-end-ms` attributes and sends nothing anywhere.
enum ConsoleScript {
    static let javaScript = """
        "use strict";
        (function () {
          function follow() {
            var audio = document.querySelector("audio.call-audio");
            var lines = Array.prototype.slice.call(document.querySelectorAll("ol.transcript li[data-start-ms]"));
            if (!audio || lines.length === 0) { return; }
            var current = null;
            function highlight() {
              var ms = audio.currentTime * 1000;
              var found = null;
              for (var i = 0; i < lines.length; i++) {
                var start = Number(lines[i].getAttribute("data-start-ms"));
                var end = Number(lines[i].getAttribute("data-end-ms"));
                if (ms >= start && ms < end) { found = lines[i]; }
              }
              if (found === current) { return; }
              if (current) { current.classList.remove("playing"); current.removeAttribute("aria-current"); }
              if (found) { found.classList.add("playing"); found.setAttribute("aria-current", "true"); }
              current = found;
            }
            ["timeupdate", "seeked", "play", "loadedmetadata"].forEach(function (name) {
              audio.addEventListener(name, highlight);
            });
            lines.forEach(function (line) {
              var button = line.querySelector("button.seek");
              if (!button) { return; }
              button.addEventListener("click", function () {
                audio.currentTime = Number(line.getAttribute("data-start-ms")) / 1000;
                highlight();
                var playing = audio.play();
                if (playing && playing.catch) { playing.catch(function () {}); }
              });
            });
            highlight();
          }
          if (document.readyState === "loading") {
            document.addEventListener("DOMContentLoaded", follow);
          } else {
            follow();
          }
        })();
        """
}
