"""Training-corpus builder: sentences from dialogue/quotation text, spoken by Debian TTS engines with phone timings."""
