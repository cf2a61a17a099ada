"""An unmodified PyTorch script: an LSTM part-of-speech tagger (the PyTorch tutorial's model).

    gradscope inspect sample_models/torch_lstm_tagger.py
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1)

sentences = [("the dog ate the apple".split(), ["DET", "NN", "V", "DET", "NN"]),
             ("everybody read that book".split(), ["NN", "V", "DET", "NN"])]
words = {word: i for i, word in enumerate(sorted({w for s, _ in sentences for w in s}))}
tags = {"DET": 0, "NN": 1, "V": 2}


class LSTMTagger(nn.Module):
    def __init__(self, embedding_dim: int, hidden_dim: int, vocab_size: int, tagset_size: int) -> None:
        super().__init__()
        self.embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim)
        self.hidden2tag = nn.Linear(hidden_dim, tagset_size)

    def forward(self, sentence):
        embeds = self.embeddings(sentence)
        lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
        return F.log_softmax(self.hidden2tag(lstm_out.view(len(sentence), -1)), dim=1)


model = LSTMTagger(6, 6, len(words), len(tags))


def loss():
    total = 0
    for sentence, sentence_tags in sentences:
        inputs = torch.tensor([words[w] for w in sentence], dtype=torch.long)
        targets = torch.tensor([tags[t] for t in sentence_tags], dtype=torch.long)
        total = total + F.nll_loss(model(inputs), targets)
    return total / len(sentences)


if __name__ == "__main__":
    value = loss()
    value.backward()
    print(f"loss {value.item():.4f}")
