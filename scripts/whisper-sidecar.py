#!/usr/bin/env python3
"""Whisper transcription sidecar: a long-lived child of the Swift worker.

Speaks length-prefixed frames (4-byte big-endian length + payload) on stdin/stdout.
See docs/whisper-sidecar.md for the protocol. stdout carries frames only; stderr gets
short diagnostics, never audio or transcript text.

Usage: PYTHON scripts/whisper-sidecar.py --model DIR [--threads 1] [--compute-type int8]
"""
import argparse
import json
import logging
import os
import struct
import sys
import time

PROTOCOL = 1
SAMPLE_RATE = 16000
MAX_SAMPLES = SAMPLE_RATE * 3600     # one hour per request
MAX_HEADER_BYTES = 64 * 1024         # a header is a few hundred bytes; far more means the stream is garbage
EXIT_LOAD_FAILED = 2
EXIT_OUT_OF_SYNC = 3


class RequestError(Exception):
    """A bad request: answered with an error frame, and the sidecar keeps serving."""


def log(msg):
    print(f"whisper-sidecar: {msg}", file=sys.stderr, flush=True)


def take_stdout():
    """Keep the real stdout for frames only, and point fd 1 (and sys.stdout) at stderr,
    so stray prints from Python or C libraries cannot corrupt the framed stream."""
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def read_exact(stream, n):
    """n bytes, or None on EOF (at any point: a cut-short frame cannot be answered)."""
    buf = bytearray()
    while len(buf) < n:
        chunk = stream.read(min(n - len(buf), 1 << 20))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def read_length(stream):
    head = read_exact(stream, 4)
    return None if head is None else struct.unpack(">I", head)[0]


def skip(stream, n):
    """Discard an n-byte payload we will not use, in chunks, so the stream stays in sync."""
    while n > 0:
        chunk = stream.read(min(n, 1 << 20))
        if not chunk:
            return False
        n -= len(chunk)
    return True


def write_frame(out, obj):
    payload = json.dumps(obj, separators=(",", ":")).encode()
    out.write(struct.pack(">I", len(payload)) + payload)
    out.flush()


def parse_header(raw):
    """Validate a request header; returns a dict of transcribe options or raises RequestError."""
    try:
        h = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RequestError(f"header is not valid JSON: {e}")
    if not isinstance(h, dict):
        raise RequestError("header must be a JSON object")
    job_id = h.get("id")
    if not isinstance(job_id, str) or not job_id:
        raise RequestError("id must be a non-empty string")

    def field(name, types, default):
        value = h.get(name, default)
        # bool is an int in Python; reject it where a number is meant.
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise RequestError(f"{name} is missing or has the wrong type")
        return value

    n = field("samples", (int,), None)
    if n < 1 or n > MAX_SAMPLES:
        raise RequestError(f"samples must be between 1 and {MAX_SAMPLES}, got {n}")
    rate = field("sample_rate", (int,), None)
    if rate != SAMPLE_RATE:
        raise RequestError(f"sample_rate must be {SAMPLE_RATE}, got {rate}")
    language = field("language", (str, type(None)), None)
    beam_size = field("beam_size", (int,), 5)
    if not 1 <= beam_size <= 20:
        raise RequestError(f"beam_size must be between 1 and 20, got {beam_size}")
    hotwords = field("hotwords", (str, type(None)), None)
    if hotwords is not None and len(hotwords.encode()) > 4000:
        raise RequestError(f"hotwords must be at most 4000 bytes, got {len(hotwords.encode())}")
    return {
        "id": job_id,
        "samples": n,
        "language": language or None,   # "" means auto-detect too
        "beam_size": beam_size,
        "hotwords": hotwords or None,   # the tenant's vocabulary: phrases the model should expect
        "vad": field("vad", (bool,), False),
        "word_timestamps": field("word_timestamps", (bool,), True),
    }


def r3(x):
    return None if x is None else round(float(x), 3)


def transcribe(model, np, req, pcm):
    audio = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    started = time.monotonic()
    segments, info = model.transcribe(
        audio,
        language=req["language"],
        beam_size=req["beam_size"],
        hotwords=req["hotwords"],
        vad_filter=req["vad"],
        word_timestamps=req["word_timestamps"],
        condition_on_previous_text=False,  # a hallucinated line must not seed the next window
    )
    # transcribe() is lazy: the decoding happens while the generator is drained, so time that too.
    segments = list(segments)
    engine_seconds = time.monotonic() - started
    return {
        "id": req["id"],
        "language": info.language,
        "language_probability": r3(info.language_probability),
        "duration": r3(req["samples"] / SAMPLE_RATE),
        "engine_seconds": r3(engine_seconds),
        "segments": [
            {
                "start": r3(s.start),
                "end": r3(s.end),
                "text": s.text,
                "avg_logprob": r3(s.avg_logprob),
                "no_speech_prob": r3(s.no_speech_prob),
                "words": [
                    {"start": r3(w.start), "end": r3(w.end), "word": w.word, "probability": r3(w.probability)}
                    for w in (s.words or [])
                ],
            }
            for s in segments
        ],
    }


def load(args, out):
    """Load the model; on failure say so in a frame and exit 2."""
    # The model is local; never let a missing file turn into a download from a hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model_dir = os.path.abspath(args.model)
    started = time.monotonic()
    try:
        if not os.path.isfile(os.path.join(model_dir, "model.bin")):
            raise FileNotFoundError(f"no model.bin in the model directory {os.path.basename(model_dir)!r}")
        import numpy as np
        from faster_whisper import WhisperModel
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)
        model = WhisperModel(model_dir, device="cpu", compute_type=args.compute_type,
                             cpu_threads=args.threads, local_files_only=True)
    except Exception as e:  # noqa: BLE001 - any failure here is reported the same way
        message = f"{type(e).__name__}: {e}"[:500]
        log(f"model load failed: {message}")
        write_frame(out, {"protocol": PROTOCOL, "ready": False, "error": message})
        sys.exit(EXIT_LOAD_FAILED)
    load_seconds = time.monotonic() - started
    write_frame(out, {"protocol": PROTOCOL, "ready": True, "model": os.path.basename(model_dir),
                      "load_seconds": r3(load_seconds)})
    log(f"ready: model {os.path.basename(model_dir)} in {load_seconds:.2f} s, "
        f"{args.threads} thread(s), {args.compute_type}")
    return model, np


def serve(model, np, inp, out):
    """One request = a header frame then an audio frame. Both are always read before the
    reply, even when the header is bad, so one bad request does not shift the stream."""
    while True:
        length = read_length(inp)
        if length is None:
            return 0  # EOF between requests: the worker closed our stdin
        if length > MAX_HEADER_BYTES:
            write_frame(out, {"id": None, "error": f"header frame of {length} bytes: stream out of sync"})
            log("header frame too large, stream out of sync; exiting")
            return EXIT_OUT_OF_SYNC
        raw = read_exact(inp, length)
        if raw is None:
            return 0
        req, error = None, None
        try:
            req = parse_header(raw)
        except RequestError as e:
            error = str(e)

        audio_len = read_length(inp)
        if audio_len is None:
            return 0
        pcm = None
        if req is not None and audio_len != 2 * req["samples"]:
            error = f"audio frame has {audio_len} bytes, header says {req['samples']} samples ({2 * req['samples']} bytes)"
        if error is None:
            pcm = read_exact(inp, audio_len)
            if pcm is None:
                return 0
        elif not skip(inp, audio_len):
            return 0

        job_id = req["id"] if req else _id_of(raw)
        if error is not None:
            log(f"job {job_id}: bad request: {error}")
            write_frame(out, {"id": job_id, "error": error})
            continue
        try:
            reply = transcribe(model, np, req, pcm)
        except Exception as e:  # noqa: BLE001 - e.g. an unknown language code; keep serving
            message = f"{type(e).__name__}: {e}"[:500]
            log(f"job {job_id}: transcribe failed: {message}")
            write_frame(out, {"id": job_id, "error": f"transcribe failed: {message}"})
            continue
        log(f"job {job_id}: {reply['duration']} s of audio in {reply['engine_seconds']} s, "
            f"{len(reply['segments'])} segment(s)")
        write_frame(out, reply)


def _id_of(raw):
    """Best effort: the id from a header that failed validation, so the worker can match the error."""
    try:
        h = json.loads(raw)
        return h.get("id") if isinstance(h, dict) and isinstance(h.get("id"), str) else None
    except ValueError:
        return None


def main():
    parser = argparse.ArgumentParser(description="Whisper transcription sidecar (framed stdin/stdout protocol)")
    parser.add_argument("--model", required=True, help="a CTranslate2 Whisper model directory")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for the model (default 1)")
    parser.add_argument("--compute-type", default="int8", help="CTranslate2 compute type (default int8)")
    args = parser.parse_args()
    out = take_stdout()
    model, np = load(args, out)
    sys.exit(serve(model, np, sys.stdin.buffer, out))


if __name__ == "__main__":
    main()
