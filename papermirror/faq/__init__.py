"""The LLM FAQ of a paper version: six answers and a TL;DR from any OpenAI-compatible model.

* :mod:`prompt`: the open prompt (a data file, overridable by a setting);
* :mod:`inputs`: what the model reads: metadata, abstract and, licence
  permitting, the full text from arXiv's HTML;
* :mod:`client`: the one module that talks to the model (the ``openai`` package);
* :mod:`cache`: FAQs, generation state and event streams in Redis;
* :mod:`generate`: one generation, question by question, streamed through Redis;
* :mod:`render`: Markdown to sanitised HTML for the pages.
"""
