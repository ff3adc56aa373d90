/* chaitime studio: the episode list and the episode editor. Plain script, no build step.
   Every change goes to the server with the version of the file the page saw; a 409 means the file
   changed on disk and the page says so instead of overwriting it. */
(function () {
  "use strict";
  var TOKEN = (document.querySelector('meta[name="chaitime-token"]') || {}).content || "";
  var COLOURS = ["#1f77b4", "#d35400", "#27ae60", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#b7950b"];

  // A request the server can't answer (it was stopped) waits behind the offline banner and is sent
  // again once the server answers: nothing the host did is lost, nothing is sent twice (the
  // version check turns a change that did arrive into a 409).
  function api(method, url, body) {
    var opts = {method: method, headers: {"X-Chaitime-Token": TOKEN}, credentials: "same-origin"};
    if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
    function attempt() {
      return fetch(url, opts).then(function (r) {
        return r.json().catch(function () { return {error: r.status + " " + r.statusText}; }).then(function (data) {
          if (!r.ok) { var e = new Error(data.error || r.statusText); e.status = r.status; e.conflict = data.conflict; throw e; }
          return data;
        });
      }, function () { return whenBack().then(attempt); });
    }
    return attempt();
  }
  var back = null;  // while offline: the promise of the server answering again
  function whenBack() {
    if (back) return back.promise;
    var banner = document.getElementById("offline");
    if (!banner) {
      banner = document.createElement("div");
      banner.id = "offline";
      banner.className = "offline";
      banner.setAttribute("role", "alert");
      document.body.insertBefore(banner, document.body.firstChild);
    }
    banner.innerHTML = "The studio is not answering: is <code>chaitime studio</code> still running in its terminal? " +
      "Your change waits and is sent when it answers. <button type=\"button\" id=\"offline-retry\">Retry</button>";
    banner.hidden = false;
    back = {};
    back.promise = new Promise(function (resolve) { back.resolve = resolve; });
    var timer = null;
    function ping() {
      clearTimeout(timer);
      fetch("/favicon.ico", {credentials: "same-origin", cache: "no-store"}).then(function () {
        banner.hidden = true;
        var done = back;
        back = null;
        done.resolve();
      }, function () { timer = setTimeout(ping, 3000); });
    }
    document.getElementById("offline-retry").onclick = ping;
    timer = setTimeout(ping, 3000);
    return back.promise;
  }
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]; }); }
  function clock(s, tenths) {
    s = Math.max(0, s || 0);
    var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
    var ss = tenths ? sec.toFixed(1).padStart(4, "0") : String(Math.floor(sec)).padStart(2, "0");
    return (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + ss;
  }
  function say(text, kind) {
    var box = document.getElementById("message");
    if (!text) { box.hidden = true; return; }
    box.className = "message" + (kind ? " " + kind : "");
    box.innerHTML = text;
    box.hidden = false;
  }
  function fail(err) {
    if (err.conflict) {
      say(esc(err.message) + ' <button type="button" onclick="location.reload()">Reload</button>', "error");
    } else {
      say(esc(err.message), "error");
    }
  }

  // --- the episode list --------------------------------------------------------------------------
  function listPage() {
    var timer = null;
    function load() {
      api("GET", "/api/episodes").then(function (data) {
        var running = false;
        var rows = data.episodes.map(function (ep) {
          var probs = (ep.error ? [{level: "error", what: ep.error}] : []).concat(ep.problems);
          var label = ep.state === "running" ? ep.note : ep.state;
          running = running || ep.state === "running";
          return "<tr data-slug=\"" + esc(ep.slug) + "\"><td><a href=\"/episodes/" + encodeURIComponent(ep.slug) + "\">" + esc(ep.title) + "</a><br><span class=muted>" + esc(ep.slug) + "</span></td>" +
            "<td><span class=\"state " + esc(ep.state) + "\">" + esc(label) + "</span>" +
            (ep.note && ep.state !== "running" ? "<br><span class=\"muted state-note\">" + esc(ep.note) + "</span>" : "") + "</td>" +
            "<td>" + (ep.duration_s != null ? clock(ep.duration_s) : "–") + "</td>" +
            "<td>" + esc((ep.guests || []).join(", ")) + "</td>" +
            "<td><ul class=problems>" + probs.map(function (p) { return "<li class=\"" + esc(p.level) + "\">" + esc(p.what) + (p.fix ? " <span class=muted>" + esc(p.fix) + "</span>" : "") + "</li>"; }).join("") + "</ul></td></tr>";
        });
        document.querySelector("#episodes tbody").innerHTML = rows.join("") || "<tr><td colspan=5>No episodes yet: run <code>chaitime ingest RECORDING</code>.</td></tr>";
        document.getElementById("workspace-problems").innerHTML = data.workspace_problems.map(function (p) {
          return "<li class=\"" + esc(p.level) + "\">" + esc(p.where) + ": " + esc(p.what) + " <span class=muted>" + esc(p.fix) + "</span></li>";
        }).join("");
        clearTimeout(timer);
        if (running) timer = setTimeout(load, 3000);  // an ingest or render is writing: look again
      }).catch(fail);
    }
    load();
    document.getElementById("publish").onclick = function () { publish(false); };
  }

  function publish(confirm) {
    var panel = document.getElementById("publish-panel");
    panel.hidden = false;
    panel.textContent = confirm ? "Publishing…" : "Checking…";
    api("POST", "/api/publish", {confirm: confirm}).then(function (r) {
      var list = "<ul class=problems>" + r.problems.map(function (p) { return "<li class=\"" + esc(p.level) + "\">" + esc(p.level) + ": " + esc(p.where) + ": " + esc(p.what) + "</li>"; }).join("") + "</ul>";
      if (r.published) { panel.innerHTML = "<p>Published to " + esc(r.out) + ".</p>" + list; return; }
      panel.innerHTML = "<p><b>chaitime check</b>: " + r.errors + " error(s), " + (r.problems.length - r.errors) + " warning(s).</p>" + list +
        (r.errors ? "<p>Fix the errors before publishing.</p>" : '<button type="button" id="publish-go">Publish the site</button>');
      var go = document.getElementById("publish-go");
      if (go) go.onclick = function () { publish(true); };
    }).catch(fail);
  }

  // --- the episode editor --------------------------------------------------------------------------
  function episodePage() {
    var slug = decodeURIComponent(location.pathname.split("/").pop());
    var base = "/api/episodes/" + encodeURIComponent(slug);
    var player = document.getElementById("player");
    var box = document.getElementById("transcript");
    var ep, spans = [], starts = [], current = -1, anchor = null, sel = null, wave = null, regions = null, waveSel = null;
    var waveReady = false;  // the waveform knows the duration: regions placed before that collapse to 0:00

    api("GET", base).then(function (data) {
      ep = data;
      document.title = ep.title + " · chaitime studio";
      document.getElementById("title").textContent = ep.title;
      document.getElementById("post-link").href = "/episodes/" + encodeURIComponent(slug) + "/post";
      player.src = base + "/audio";
      setHistory(ep.history);
      draw();
      drawSide();
      showRemoved();
      setupWave();
    }).catch(function (err) { box.innerHTML = ""; fail(err); });

    function colour(name) { var i = ep.speakers.indexOf(name); return i < 0 ? "#999" : COLOURS[i % COLOURS.length]; }

    function draw() {
      var html = [];
      ep.lines.forEach(function (ln, li) {
        html.push('<p class="line" data-line="' + li + '" style="--spk:' + colour(ln.speaker) + '"><span class="stamp">' + clock(ln.start_s) + "</span>" +
          '<span class="who" data-line="' + li + '" title="Click to reassign this line to another speaker">' + esc(ln.speaker || "?") + "</span>");
        for (var i = ln.first; i <= ln.last; i++) {
          var w = ep.words[i];
          html.push('<span class="w' + (w[4] ? " cut" : "") + (w[5] ? " sug" : "") + (w[6] ? " fixed" : "") + '" data-i="' + i + '">' + esc(w[2]) + "</span> ");
        }
        html.push("</p>");
      });
      box.innerHTML = html.join("");
      spans = Array.prototype.slice.call(box.querySelectorAll(".w"));
      starts = ep.words.map(function (w) { return w[0]; });
      current = -1;
    }

    function drawSide() {
      document.getElementById("speakers").innerHTML = ep.speakers.map(function (s) {
        return '<li style="--spk:' + colour(s) + '"><span class="swatch"></span><span class="grow">' + esc(s) + '</span><button type="button" data-rename="' + esc(s) + '">Rename</button></li>';
      }).join("");
      drawSuggestions();
      document.getElementById("chapters").innerHTML = ep.chapters.map(function (c, i) {
        return '<li><a data-seek="' + c.start_s + '">' + clock(c.start_s) + '</a><input data-chapter="' + i + '" value="' + esc(c.title) + '" aria-label="Chapter title">' +
          '<button type="button" data-move="' + i + '" title="Move it to the playhead">Move</button><button type="button" data-delete="' + i + '" title="Delete">×</button></li>';
      }).join("") || "<li class=muted>None.</li>";
    }

    // Suggested cuts (fillers, pauses, dead air, untranscribed speech) in time order, each with its
    // state (cut or kept) and whether the host decided on it (reviewed: ✓); all fillers or all
    // pauses at once.
    function isPause(m) { return m.kind === "pause" || m.kind === "dead air"; }
    function drawSuggestions() {
      var rev = ep.reviewed || {words: [], markers: []}, revWords = {}, revMarkers = {};
      rev.words.forEach(function (i) { revWords[i] = true; });
      rev.markers.forEach(function (m) { revMarkers[m] = true; });
      var items = ep.markers.map(function (m) {
        return {t: m.start_s, cut: m.struck, reviewed: !!revMarkers[m.stamp], attr: 'data-marker="' + esc(m.stamp) + '"',
                label: esc(m.kind) + " " + m.length_s.toFixed(1) + " s"};
      });
      var fillers = [];
      ep.words.forEach(function (w, i) {
        if (!w[5]) return;
        fillers.push(i);
        items.push({t: w[0], cut: !!w[4], reviewed: !!revWords[i], attr: 'data-word="' + i + '"', label: "“" + esc(w[2]) + "”"});
      });
      items.sort(function (a, b) { return a.t - b.t; });
      var done = items.filter(function (x) { return x.reviewed; }).length;
      document.getElementById("suggestions").innerHTML = items.map(function (x) {
        return '<li class="' + (x.cut ? "cut" : "kept") + (x.reviewed ? " reviewed" : "") + '"><span data-seek="' + x.t + '">' + clock(x.t) + " " + x.label + "</span>" +
          '<span class="verdict" title="' + (x.reviewed ? "You decided" : "Not reviewed yet: as suggested") + '">' + (x.reviewed ? "✓ " : "") + (x.cut ? "cut" : "kept") + "</span>" +
          '<button type="button" ' + x.attr + ' data-cut="1" aria-pressed="' + x.cut + '">Cut</button>' +
          '<button type="button" ' + x.attr + ' data-cut="0" aria-pressed="' + !x.cut + '">Keep</button></li>';
      }).join("") || "<li class=muted>None.</li>";
      var pauses = ep.markers.filter(isPause).length;
      document.getElementById("bulk").innerHTML = items.length ? '<p class="muted">' + done + " of " + items.length + " reviewed</p>" +
        (fillers.length ? '<div>Fillers (' + fillers.length + '): <button type="button" data-bulk="fillers" data-cut="1">Cut all</button>' +
          '<button type="button" data-bulk="fillers" data-cut="0">Keep all</button></div>' : "") +
        (pauses ? '<div>Pauses (' + pauses + '): <button type="button" data-bulk="pauses" data-cut="1">Cut all</button>' +
          '<button type="button" data-bulk="pauses" data-cut="0">Keep all</button></div>' : "") : "";
    }
    document.getElementById("bulk").addEventListener("click", function (e) {
      var b = e.target.closest("button[data-bulk]");
      if (!b) return;
      var cut = b.dataset.cut === "1";
      if (b.dataset.bulk === "fillers") {
        var idx = [];
        ep.words.forEach(function (w, i) { if (w[5]) idx.push(i); });
        change("/cut", {words: idx, cut: cut, review: true, version: ep.versions.edit}, applyEdit);
      } else {
        var stamps = ep.markers.filter(isPause).map(function (m) { return m.stamp; });
        change("/marker", {stamps: stamps, cut: cut, review: true, version: ep.versions.edit}, applyEdit);
      }
    });

    function saveChapters(list) {
      change("/chapters", {chapters: list, version: ep.versions.chapters}, function (r) {
        ep.chapters = r.chapters;
        ep.versions.chapters = r.versions.chapters;
        drawSide();
        if (waveReady) drawRegions();
      });
    }
    function chapterList() { return ep.chapters.map(function (c) { return {start_s: c.start_s, title: c.title}; }); }
    var chaptersBox = document.getElementById("chapters");
    chaptersBox.addEventListener("click", function (e) {
      var t = e.target, list = chapterList();
      if (t.dataset.seek) { player.currentTime = +t.dataset.seek; return; }
      if (t.dataset.move) { list[+t.dataset.move].start_s = Math.round(player.currentTime * 1000) / 1000; saveChapters(list); }
      if (t.dataset.delete) {
        if (!confirm("Delete the chapter “" + list[+t.dataset.delete].title + "” at " + clock(list[+t.dataset.delete].start_s) + "? (Undo brings it back.)")) return;
        list.splice(+t.dataset.delete, 1);
        saveChapters(list);
      }
    });
    chaptersBox.addEventListener("change", function (e) {
      if (!e.target.dataset.chapter) return;
      var list = chapterList();
      list[+e.target.dataset.chapter].title = e.target.value;
      saveChapters(list);
    });
    function addChapter() {
      var title = prompt("Chapter title:", "");
      if (!title) return;
      var list = chapterList();
      list.push({start_s: Math.round(player.currentTime * 1000) / 1000, title: title});
      saveChapters(list);
    }
    document.getElementById("chapter-add").onclick = addChapter;

    function showRemoved() {
      document.getElementById("removed").textContent = ep.removed_s ? clock(ep.removed_s, true) + " cut, " + clock(ep.duration_s - ep.removed_s) + " left" : "nothing cut";
      if (waveReady) drawRegions();
    }

    // Waveform: peaks precomputed by the server, the audio element as the media.
    function setupWave() {
      if (!window.WaveSurfer) return;
      api("GET", base + "/peaks").then(function (p) {
        regions = WaveSurfer.Regions.create();
        wave = WaveSurfer.create({container: "#waveform", media: player, peaks: [p.peaks], duration: ep.duration_s, height: 96,
          waveColor: "#c9b79c", progressColor: "#b5651d", cursorColor: "#222", normalize: true, plugins: [regions]});
        regions.enableDragSelection({color: "rgba(40, 110, 220, 0.25)"});
        regions.on("region-created", function (r) {
          if (/^(cut|spk|chapter)-/.test(r.id)) return;
          if (waveSel && waveSel !== r) waveSel.remove();
          waveSel = r;
          window.getSelection().removeAllRanges();
          selectRange(firstWordAfter(r.start), lastWordBefore(r.end), true);
        });
        // The regions go on once the waveform has its duration (wavesurfer loads the peaks a moment
        // after create): one added before that is clamped to 0:00 and stays there.
        wave.on("ready", function () { waveReady = true; drawRegions(); });
      }).catch(function (err) { document.getElementById("waveform").textContent = "No waveform: " + err.message; });
    }

    function drawRegions() {
      regions.getRegions().forEach(function (r) { if (r !== waveSel) r.remove(); });
      ep.lines.forEach(function (ln, i) {
        var c = colour(ln.speaker);
        regions.addRegion({id: "spk-" + i, start: ln.start_s, end: Math.max(ln.end_s, ln.start_s + 0.05), color: c + "22", drag: false, resize: false});
      });
      ep.cuts.forEach(function (c, i) {
        regions.addRegion({id: "cut-" + i, start: c[0], end: c[1], color: "rgba(192, 57, 43, 0.35)", drag: false, resize: false});
      });
      ep.chapters.forEach(function (c, i) {
        var label = document.createElement("span");
        label.textContent = c.title;
        // inline: wavesurfer draws inside a shadow root, where the page's CSS doesn't reach
        label.style.cssText = "white-space:nowrap;font-size:11px;background:rgba(255,255,255,.8);padding:0 3px;color:#1b4f72";
        regions.addRegion({id: "chapter-" + i, start: c.start_s, content: label, color: "#2e86c1", drag: false, resize: false});
      });
    }

    function firstWordAfter(t) { for (var i = 0; i < ep.words.length; i++) if ((ep.words[i][0] + ep.words[i][1]) / 2 >= t) return i; return ep.words.length - 1; }
    function lastWordBefore(t) { for (var i = ep.words.length - 1; i >= 0; i--) if ((ep.words[i][0] + ep.words[i][1]) / 2 <= t) return i; return 0; }

    // Which word is playing: binary search on the starts.
    function wordAt(t) {
      var lo = 0, hi = starts.length - 1, found = -1;
      while (lo <= hi) { var mid = (lo + hi) >> 1; if (starts[mid] <= t) { found = mid; lo = mid + 1; } else hi = mid - 1; }
      return found;
    }
    function highlight() {
      var i = wordAt(player.currentTime);
      if (i !== current) {
        if (current >= 0 && spans[current]) spans[current].classList.remove("now");
        if (i >= 0 && spans[i]) {
          spans[i].classList.add("now");
          if (!player.paused) {
            var r = spans[i].getBoundingClientRect(), b = box.getBoundingClientRect();
            if (r.top < b.top || r.bottom > b.bottom) spans[i].scrollIntoView({block: "center"});
          }
        }
        current = i;
      }
      document.getElementById("time").textContent = clock(player.currentTime, true);
    }
    // Preview: inside a cut, jump to its end, as the rendered episode will.
    function skipCuts() {
      if (!document.getElementById("preview").checked || !ep) return;
      var t = player.currentTime;
      for (var k = 0; k < ep.cuts.length; k++) {
        var c = ep.cuts[k];
        if (t >= c[0] && t < c[1] - 0.001) { player.currentTime = c[1]; return; }
      }
    }
    function tick() { skipCuts(); highlight(); if (!player.paused) requestAnimationFrame(tick); }
    player.addEventListener("timeupdate", function () { skipCuts(); highlight(); });
    player.addEventListener("play", function () { document.getElementById("play").textContent = "Pause"; requestAnimationFrame(tick); });
    player.addEventListener("pause", function () { document.getElementById("play").textContent = "Play"; });
    player.addEventListener("seeked", highlight);

    function toggle() { if (player.paused) player.play(); else player.pause(); }
    function skip(s) { player.currentTime = Math.max(0, Math.min(ep.duration_s, player.currentTime + s)); }
    document.getElementById("play").onclick = toggle;
    document.getElementById("back").onclick = function () { skip(-5); };
    document.getElementById("fwd").onclick = function () { skip(5); };

    // Selection: a clicked word, click then shift-click, a mouse drag over words, or a range dragged
    // on the waveform. There is one selection, the latest: a new one in the text drops the
    // waveform's range, and a new range on the waveform drops the text's.
    function selectRange(a, b, fromWave) {
      clearSel(!fromWave);
      if (a > b) { var t = a; a = b; b = t; }
      sel = [a, b];
      for (var i = a; i <= b; i++) if (spans[i]) spans[i].classList.add("sel");
    }
    function clearSel(alsoWave) {
      if (sel) for (var i = sel[0]; i <= sel[1]; i++) if (spans[i]) spans[i].classList.remove("sel");
      sel = null;
      if (alsoWave && waveSel) { waveSel.remove(); waveSel = null; }
    }
    function selected() { return sel; }
    function domRange() {
      var s = window.getSelection();
      if (!s || s.isCollapsed) return null;
      var a = s.anchorNode && (s.anchorNode.nodeType === 1 ? s.anchorNode : s.anchorNode.parentElement);
      var b = s.focusNode && (s.focusNode.nodeType === 1 ? s.focusNode : s.focusNode.parentElement);
      a = a && a.closest(".w");
      b = b && b.closest(".w");
      if (!a || !b || !box.contains(a) || !box.contains(b)) return null;
      return [+a.dataset.i, +b.dataset.i];
    }
    var dragged = false;
    box.addEventListener("mouseup", function () {
      var r = domRange();
      if (!r) return;
      dragged = true;  // the click that follows the drag is not a click on a word
      setTimeout(function () { dragged = false; }, 0);
      selectRange(r[0], r[1]);
      anchor = Math.min(r[0], r[1]);
      window.getSelection().removeAllRanges();
    });
    box.addEventListener("click", function (e) {
      var who = e.target.closest(".who");
      if (who) { reassign(+who.dataset.line); return; }
      var w = e.target.closest(".w");
      if (!w || w.querySelector("input") || dragged) return;
      var i = +w.dataset.i;
      if (e.shiftKey && anchor !== null) { selectRange(anchor, i); window.getSelection().removeAllRanges(); return; }
      selectRange(i, i);  // a clicked word is a selection of one
      anchor = i;
      player.currentTime = ep.words[i][0];
      highlight();
    });
    box.addEventListener("dblclick", function (e) {
      var w = e.target.closest(".w");
      if (w) correct(+w.dataset.i, w);
    });

    // Which file each change writes: its version is what the server checks.
    var WRITES = {"/cut": "edit", "/marker": "edit", "/correct": "transcript", "/replace": "transcript", "/speaker": "transcript",
                  "/rename": "transcript", "/chapters": "chapters"};
    function change(url, body, then) {
      say("");
      return api("POST", base + url, body).then(function (r) { if (r.history) setHistory(r.history); return then(r); }).catch(function (err) {
        if (!err.conflict || !WRITES[url]) { fail(err); return; }
        // The file changed on disk: the host chooses. Reload (take the file as it is now), or make
        // this same change again on the file as it is now (nothing else in it is touched).
        say(esc(err.message) + ' <button type="button" id="conflict-reload">Reload</button> ' +
            '<button type="button" id="conflict-apply">Make my change on the new file</button>', "error");
        document.getElementById("conflict-reload").onclick = function () { location.reload(); };
        document.getElementById("conflict-apply").onclick = function () {
          api("GET", base).then(function (d) {
            body.version = d.versions[WRITES[url]];
            ep.versions = d.versions;
            return change(url, body, function (r) { then(r); reloadWords(); });
          }).catch(fail);
        };
      });
    }
    // Undo and redo: the server puts the files back as they were (its history of the studio's
    // changes); the page then takes the episode as it is now and changes only what differs.
    function setHistory(h) {
      ep.history = h;
      var u = document.getElementById("undo"), r = document.getElementById("redo");
      u.disabled = !h.undo;
      r.disabled = !h.redo;
      u.title = h.undo ? "Undo: " + h.undo + " (Ctrl+Z)" : "Nothing to undo (Ctrl+Z)";
      r.title = h.redo ? "Redo: " + h.redo + " (Ctrl+Shift+Z)" : "Nothing to redo (Ctrl+Shift+Z)";
    }
    function step(undo) {
      var what = undo ? ep.history.undo : ep.history.redo;
      if (!what) { say(undo ? "Nothing to undo." : "Nothing to redo."); return; }
      say("");
      api("POST", base + (undo ? "/undo" : "/redo")).then(function (r) {
        setHistory(r.history);
        return api("GET", base).then(function (d) {
          refresh(d);
          say((undo ? "Undone: " : "Redone: ") + esc(r.what) + ".");
        });
      }).catch(fail);
    }
    // The episode as the server has it now: words, lines, speakers, chapters, cuts; only what
    // differs from the page is changed.
    function refresh(d) {
      if (d.words.length !== ep.words.length || d.lines.length !== ep.lines.length) {
        Object.assign(ep, d);
        draw();
      } else {
        d.words.forEach(function (w, i) {
          var o = ep.words[i], span = spans[i];
          if (w[2] !== o[2] && !span.querySelector("input")) span.textContent = w[2];
          if (w[4] !== o[4]) span.classList.toggle("cut", !!w[4]);
          if (w[5] !== o[5]) span.classList.toggle("sug", !!w[5]);
          if (w[6] !== o[6]) span.classList.toggle("fixed", !!w[6]);
        });
        var old = ep.lines;
        Object.assign(ep, d);
        d.lines.forEach(function (ln, i) {
          if (ln.speaker === old[i].speaker) return;
          var p = box.querySelector('.line[data-line="' + i + '"]');
          p.style.setProperty("--spk", colour(ln.speaker));
          p.querySelector(".who").textContent = ln.speaker || "?";
        });
      }
      setHistory(d.history);
      drawSide();
      showRemoved();
    }
    function toggleKeys(show) {
      var keys = document.getElementById("keys");
      keys.hidden = show === undefined ? !keys.hidden : !show;
      if (!keys.hidden) keys.querySelector("button").focus();
    }
    document.getElementById("keys-open").onclick = function () { toggleKeys(true); };
    document.getElementById("keys").addEventListener("click", function (e) {
      if (e.target.id === "keys" || e.target.closest("button")) toggleKeys(false);
    });
    document.getElementById("undo").onclick = function () { step(true); };
    document.getElementById("redo").onclick = function () { step(false); };

    function cutSelection(cut) {
      var range = selected();
      if (!range) { say("Select words first: click one, shift-click another (or drag over them, or over the waveform)."); return; }
      var idx = [];
      for (var i = range[0]; i <= range[1]; i++) idx.push(i);
      cutWords(idx, cut);
      clearSel(true);
      window.getSelection().removeAllRanges();
    }
    function cutWords(idx, cut) {
      change("/cut", {words: idx, cut: cut, version: ep.versions.edit}, applyEdit);
    }
    function applyEdit(r) {
      ep.versions.edit = r.versions.edit;
      ep.cuts = r.cuts;
      ep.markers = r.markers;
      ep.removed_s = r.removed_s;
      if (r.reviewed) ep.reviewed = r.reviewed;
      var removed = {};
      r.removed.forEach(function (i) { removed[i] = true; });
      ep.words.forEach(function (w, i) { w[4] = removed[i] ? 1 : 0; spans[i].classList.toggle("cut", !!removed[i]); });
      drawSide();
      showRemoved();
      box.dataset.saved = String(Date.now());
    }
    function quoteSelection() {
      var range = selected();
      if (!range) { say("Select the words to quote first."); return; }
      api("GET", base + "/post").then(function (p) {
        return api("POST", base + "/post/quote", {first: range[0], last: range[1], version: p.version});
      }).then(function () {
        say('Quoted in post.md. <a href="/episodes/' + encodeURIComponent(slug) + '/post">Open the post</a>');
        clearSel();
      }).catch(fail);
    }
    document.getElementById("cut").onclick = function () { cutSelection(true); };
    document.getElementById("quote").onclick = quoteSelection;
    document.getElementById("keep").onclick = function () { cutSelection(false); };
    document.getElementById("suggestions").addEventListener("click", function (e) {
      var b = e.target.closest("button"), s = e.target.closest("[data-seek]");
      if (s) { player.currentTime = +s.dataset.seek; return; }
      if (!b) return;
      var cut = b.dataset.cut === "1";
      if (b.dataset.marker) change("/marker", {stamps: [b.dataset.marker], cut: cut, review: true, version: ep.versions.edit}, applyEdit);
      else change("/cut", {words: [+b.dataset.word], cut: cut, review: true, version: ep.versions.edit}, applyEdit);
    });

    function correct(i, span) {
      var input = document.createElement("input");
      input.value = ep.words[i][2];
      span.textContent = "";
      span.appendChild(input);
      input.focus();
      input.select();
      var done = false;
      function finish(save) {
        if (done) return;
        done = true;
        var text = input.value.trim();
        span.textContent = ep.words[i][2];
        if (!save || !text || text === ep.words[i][2]) return;
        var was = norm(ep.words[i][2]);
        change("/correct", {word: i, text: text, version: ep.versions.transcript}, function (r) {
          ep.versions.transcript = r.versions.transcript;
          reloadWords(function () {
            var core = text.replace(/^[.,!?;:"'()…]+|[.,!?;:"'()…]+$/g, "");
            var others = ep.words.filter(function (w) { return norm(w[2]) === was && w[2].indexOf(core) < 0; }).length;
            say("Corrected. " + (ep.rendered ? "Render to update the captions, transcripts and post." : "Transcripts updated; render or draft to update the post.") +
              (others ? ' <button type="button" id="replace-all">Replace the other ' + others + " too, and add “" + esc(text) + "” to the show’s vocabulary</button>" : ""));
            var b = document.getElementById("replace-all");
            if (b) b.onclick = function () {
              var j = ep.words.findIndex(function (w) { return norm(w[2]) === was && w[2].indexOf(core) < 0; });
              change("/replace", {word: j, text: text, vocabulary: true, version: ep.versions.transcript}, function (r2) {
                ep.versions.transcript = r2.versions.transcript;
                reloadWords(function () { say("Replaced " + r2.replaced + ". " + esc(r2.vocabulary || "")); });
              });
            };
          });
        });
      }
      input.addEventListener("keydown", function (e) {
        e.stopPropagation();
        if (e.key === "Enter") finish(true);
        if (e.key === "Escape") finish(false);
      });
      input.addEventListener("blur", function () { finish(true); });
    }

    function norm(t) { return String(t).toLowerCase().replace(/[^\w'-]+/g, ""); }
    // After a transcript change: the words again (their text and marks), the cut state unchanged.
    function reloadWords(then) {
      api("GET", base).then(function (d) {
        ep.words = d.words;
        ep.versions = d.versions;
        ep.words.forEach(function (w, k) { spans[k].textContent = w[2]; spans[k].classList.toggle("fixed", !!w[6]); });
        if (then) then();
      }).catch(fail);
    }

    // Who says it: a picker of the people the episode knows (speakers, hosts, guests), or a new name
    // typed (matched without case, so "guest one" is the existing "Guest One").
    function samePerson(a, b) { return String(a).trim().replace(/\s+/g, " ").toLowerCase() === String(b).trim().replace(/\s+/g, " ").toLowerCase(); }
    function asKnown(name) {
      var found = (ep.people || ep.speakers).filter(function (p) { return samePerson(p, name); })[0];
      return found || name.trim().replace(/\s+/g, " ");
    }
    function pickPerson(anchor, title, current, done) {
      var box = document.getElementById("picker");
      var others = (ep.people || ep.speakers).filter(function (p) { return !samePerson(p, current); });
      box.innerHTML = '<div class="picker-title">' + esc(title) + "</div>" + others.map(function (p) {
        return '<button type="button" class="person" data-person="' + esc(p) + '" style="--spk:' + colour(p) + '"><span class="swatch"></span>' + esc(p) + "</button>";
      }).join("") + '<form class="picker-new"><input name="name" placeholder="Someone else…" aria-label="Another name" autocomplete="off">' +
        '<button type="submit">OK</button></form>';
      var r = anchor.getBoundingClientRect();
      box.style.left = Math.max(4, Math.min(r.left, window.innerWidth - 260)) + "px";
      box.style.top = Math.min(r.bottom + 4, window.innerHeight - 40) + "px";
      box.hidden = false;
      var input = box.querySelector("input");
      function close() { box.hidden = true; box.innerHTML = ""; document.removeEventListener("mousedown", outside, true); }
      function outside(e) { if (!box.contains(e.target)) close(); }
      function pick(name) {
        close();
        name = asKnown(name || "");
        if (name && name !== current) done(name);  // (the same person spelled better is a rename)
      }
      box.onclick = function (e) { var b = e.target.closest("button[data-person]"); if (b) pick(b.dataset.person); };
      box.querySelector("form").onsubmit = function (e) { e.preventDefault(); pick(input.value); };
      box.onkeydown = function (e) { if (e.key === "Escape") { e.stopPropagation(); close(); } };
      document.addEventListener("mousedown", outside, true);
      (box.querySelector("button.person") || input).focus();
    }
    function setPeople(r) {
      ep.speakers = r.speakers;
      ep.people = r.people;
      ep.guests = r.guests;
    }

    function reassign(li) {
      var ln = ep.lines[li];
      var who = box.querySelector('.who[data-line="' + li + '"]');
      pickPerson(who, "Who says this line?", ln.speaker || "", function (name) {
        change("/speaker", {line: li, speaker: name, version: ep.versions.transcript}, function (r) {
          ep.versions.transcript = r.versions.transcript;
          ln.speaker = r.speaker;
          setPeople(r);
          var p = box.querySelector('.line[data-line="' + li + '"]');
          p.style.setProperty("--spk", colour(r.speaker));
          p.querySelector(".who").textContent = r.speaker;
          drawSide();
          if (waveReady) drawRegions();
        });
      });
    }
    document.getElementById("speakers").addEventListener("click", function (e) {
      var b = e.target.closest("button[data-rename]");
      if (!b) return;
      var old = b.dataset.rename;
      pickPerson(b, "Rename " + old + " to (a name listed merges the two):", old, function (name) {
        change("/rename", {old: old, new: name, version: ep.versions.transcript}, function (r) {
          ep.versions.transcript = r.versions.transcript;
          setPeople(r);
          ep.lines.forEach(function (ln) { if (ln.speaker === old) ln.speaker = r.speaker; });
          draw();
          drawSide();
          if (waveReady) drawRegions();
        });
      });
    });

    // Render: the button stays disabled while the render runs (a second click can't hide its
    // progress); a render already running when the page opens is shown too. Its warnings (a feed
    // that wasn't refreshed) are shown with the result, not dropped.
    var renderButton = document.getElementById("render");
    function pollRender(first) {
      var bar = document.getElementById("progress");
      api("GET", base + "/job").then(function (j) {
        if (first && !j.running) return;
        renderButton.disabled = !!j.running;
        bar.hidden = !j.running;
        var pct = j.total ? Math.min(100, 100 * j.done / j.total) : 5;
        bar.querySelector(".fill").style.width = pct + "%";
        bar.querySelector(".label").textContent = j.running ? "Rendering: " + (j.stage || "starting") + " " + Math.round(pct) + "%" : "";
        if (j.running) { setTimeout(pollRender, 500); return; }
        if (j.error) { say(esc(j.error), "error"); return; }
        ep.rendered = true;
        var warnings = (j.result && j.result.warnings) || [];
        say("Render done: " + esc(j.result.line) + "." + (warnings.length ? "<ul class=\"warnings\">" + warnings.map(function (w) {
          return "<li>" + esc(w) + "</li>"; }).join("") + "</ul>" : ""), warnings.length ? "warn" : "");
      }).catch(function (err) { renderButton.disabled = false; bar.hidden = true; fail(err); });
    }
    renderButton.onclick = function () {
      if (renderButton.disabled) return;
      renderButton.disabled = true;
      var bar = document.getElementById("progress");
      bar.hidden = false;
      bar.querySelector(".fill").style.width = "0%";
      bar.querySelector(".label").textContent = "Rendering: starting";
      say("");
      api("POST", base + "/render").then(function () { pollRender(false); })
        .catch(function (err) { bar.hidden = true; renderButton.disabled = false; fail(err); });
    };
    pollRender(true);

    document.addEventListener("keydown", function (e) {
      if ((e.target.tagName === "INPUT" && e.target.type !== "checkbox") || e.target.tagName === "TEXTAREA") return;
      if (e.target.closest && (e.target.closest("#picker") || (e.target.closest("#keys") && e.key !== "Escape" && e.key !== "?"))) return;
      if ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === "z" || e.key === "Z" || e.key === "y")) {
        e.preventDefault();
        step(e.key.toLowerCase() === "z" && !e.shiftKey);
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      var key = e.key.length === 1 ? e.key.toLowerCase() : e.key;  // Shift or Caps Lock: the same key
      if (key === "?") { e.preventDefault(); toggleKeys(); }
      else if (key === "Escape") { if (!document.getElementById("keys").hidden) toggleKeys(false); else clearSel(true); }
      else if (key === " ") { e.preventDefault(); toggle(); }
      else if (key === "ArrowLeft") { e.preventDefault(); skip(-5); }
      else if (key === "ArrowRight") { e.preventDefault(); skip(5); }
      else if (key === "x" || key === "Delete" || key === "Backspace") { e.preventDefault(); cutSelection(true); }
      else if (key === "k") { cutSelection(false); }
      else if (key === "p") { var p = document.getElementById("preview"); p.checked = !p.checked; }
      else if (key === "c") { addChapter(); }
      else if (key === "q") { quoteSelection(); }
    });
  }

  // --- the post editor: post.md beside the site's rendering of it ----------------------------------
  function postPage() {
    var slug = decodeURIComponent(location.pathname.split("/").slice(-2)[0]);
    var base = "/api/episodes/" + encodeURIComponent(slug) + "/post";
    var area = document.getElementById("post-text"), preview = document.getElementById("post-preview");
    var version = null, timer = null, dirty = false;
    document.getElementById("back").href = "/episodes/" + encodeURIComponent(slug);
    api("GET", base).then(function (p) {
      area.value = p.text;
      preview.innerHTML = p.html;
      version = p.version;
    }).catch(fail);
    area.addEventListener("input", function () {
      dirty = true;
      document.getElementById("saved").textContent = "not saved";
      clearTimeout(timer);
      timer = setTimeout(function () {
        api("POST", base + "/preview", {text: area.value}).then(function (r) { preview.innerHTML = r.html; }).catch(fail);
      }, 250);
    });
    function save() {
      say("");
      var text = area.value;
      api("POST", base + "/save", {text: text, version: version}).then(function (r) {
        version = r.version;
        dirty = area.value !== text;
        document.getElementById("saved").textContent = dirty ? "not saved" : "saved";
      }).catch(function (err) {
        if (!err.conflict) { fail(err); return; }
        api("GET", base).then(conflict).catch(fail);
      });
    }
    // post.md changed on disk since the page read it: the host's text stays where it is; both are
    // shown, and the host chooses (theirs over the file's, or the file's, or merge by hand and save).
    function conflict(disk) {
      var panel = document.getElementById("post-conflict");
      panel.hidden = false;
      panel.innerHTML = "<p><b>post.md changed on disk</b> since this page read it (edited in another program, or a quote " +
        "added). Nothing was saved. Your text is still in the editor; the file's is below.</p>" +
        '<div class="post-columns"><div><h3>Yours</h3><pre id="conflict-mine"></pre></div><div><h3>On disk</h3><pre id="conflict-disk"></pre></div></div>' +
        '<button type="button" id="conflict-keep">Save mine over it</button> <button type="button" id="conflict-take">Take the file’s (drop mine)</button> ' +
        '<button type="button" id="conflict-close">Merge by hand, then save</button>';
      document.getElementById("conflict-mine").textContent = area.value;
      document.getElementById("conflict-disk").textContent = disk.text;
      function close() { panel.hidden = true; panel.innerHTML = ""; }
      document.getElementById("conflict-keep").onclick = function () { version = disk.version; close(); save(); };
      document.getElementById("conflict-take").onclick = function () {
        area.value = disk.text;
        preview.innerHTML = disk.html;
        version = disk.version;
        dirty = false;
        document.getElementById("saved").textContent = "the file's";
        close();
      };
      document.getElementById("conflict-close").onclick = function () { version = disk.version; close(); area.focus(); };
    }
    document.getElementById("save").onclick = save;
    document.addEventListener("keydown", function (e) {
      if ((e.ctrlKey || e.metaKey) && e.key === "s") { e.preventDefault(); save(); }
    });
    window.addEventListener("beforeunload", function (e) { if (dirty) { e.preventDefault(); e.returnValue = ""; } });
  }

  window.Studio = {listPage: listPage, episodePage: episodePage, postPage: postPage};
})();
