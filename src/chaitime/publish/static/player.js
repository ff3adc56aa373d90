// chaitime episode page: chapters and transcript lines seek the player; the line being played
// is highlighted. Elements with data-start="seconds" seek; .cue elements carry data-end too.
(function () {
  "use strict";
  var players = Array.prototype.slice.call(document.querySelectorAll("audio, video"));
  if (!players.length) return;
  var active = document.getElementById("player") || players[0];
  var cues = Array.prototype.slice.call(document.querySelectorAll(".cue[data-start]"));
  var starts = cues.map(function (c) { return parseFloat(c.getAttribute("data-start")); });
  var current = null;

  function seek(seconds, play) {
    active.currentTime = seconds;
    highlight(seconds);
    if (play) {
      var p = active.play();
      if (p && p.catch) p.catch(function () {});  // autoplay may be refused; the seek stands
    }
  }

  function cueAt(t) {
    var lo = 0, hi = starts.length - 1, found = -1;
    while (lo <= hi) {  // last cue starting at or before t
      var mid = (lo + hi) >> 1;
      if (starts[mid] <= t + 0.05) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found < 0 ? null : cues[found];
  }

  function highlight(t) {
    var cue = cueAt(t);
    if (cue === current) return;
    if (current) current.classList.remove("current");
    current = cue;
    if (!cue) return;
    cue.classList.add("current");
    var box = cue.parentElement;
    if (box && (cue.offsetTop < box.scrollTop || cue.offsetTop > box.scrollTop + box.clientHeight - cue.offsetHeight)) {
      box.scrollTop = cue.offsetTop - box.clientHeight / 3;
    }
  }

  players.forEach(function (m) {
    m.addEventListener("play", function () {
      if (m !== active) { active.pause(); m.currentTime = active.currentTime; active = m; }
    });
    m.addEventListener("timeupdate", function () { if (m === active) highlight(m.currentTime); });
    m.addEventListener("seeked", function () { if (m === active) highlight(m.currentTime); });
  });

  document.addEventListener("click", function (e) {
    var target = e.target.closest ? e.target.closest("[data-start]") : null;
    if (!target) return;
    e.preventDefault();
    var t = parseFloat(target.getAttribute("data-start"));
    seek(t, true);
    if (history.replaceState) history.replaceState(null, "", "#t=" + Math.floor(t));
  });

  var m = /^#t=(\d+(?:\.\d+)?)$/.exec(location.hash);
  if (m) seek(parseFloat(m[1]), false);
})();
