# Knowledge distillation, after PyTorch's tutorial (made small): a teacher and a student, soft targets
# with temperature (KL divergence), a cosine-embedding loss on hidden representations, and a regressor.
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(42)


class DeepNN(nn.Module):
    def __init__(self, num_classes=10):
        super(DeepNN, self).__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(16, 8, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.classifier = nn.Sequential(nn.Linear(8 * 4 * 4, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, num_classes))

    def forward(self, x):
        x = self.features(x)
        flattened = torch.flatten(x, 1)
        return self.classifier(flattened), flattened


class LightNN(nn.Module):
    def __init__(self, num_classes=10):
        super(LightNN, self).__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, kernel_size=3, padding=1), nn.ReLU(),
                                      nn.MaxPool2d(kernel_size=2, stride=2))
        self.classifier = nn.Sequential(nn.Linear(8 * 4 * 4, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, num_classes))

    def forward(self, x):
        x = self.features(x)
        flattened = torch.flatten(x, 1)
        hidden = F.avg_pool1d(flattened, 1)
        return self.classifier(flattened), hidden


images = torch.randn(48, 3, 8, 8)
labels = torch.randint(0, 10, (48,))
batches = [(images[i:i + 16], labels[i:i + 16]) for i in range(0, 48, 16)]


def train(model, epochs, learning_rate):
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=learning_rate)
    model.train()
    for epoch in range(epochs):
        running_loss = 0.0
        for inputs, targets in batches:
            optimizer.zero_grad()
            outputs, _ = model(inputs)
            loss = criterion(outputs, targets)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        print(f"Epoch {epoch + 1}/{epochs}, Loss: {running_loss / len(batches):.4f}")


def train_knowledge_distillation(teacher, student, epochs, learning_rate, T, soft_target_loss_weight, ce_loss_weight,
                                 cosine_weight):
    ce_loss = nn.CrossEntropyLoss()
    cosine_loss = nn.CosineEmbeddingLoss()
    optimizer = optim.Adam(student.parameters(), lr=learning_rate)
    teacher.eval()
    student.train()
    for epoch in range(epochs):
        running_loss = 0.0
        for inputs, targets in batches:
            optimizer.zero_grad()
            with torch.no_grad():
                teacher_logits, teacher_hidden = teacher(inputs)
            student_logits, student_hidden = student(inputs)
            soft_targets = nn.functional.softmax(teacher_logits / T, dim=-1)
            soft_prob = nn.functional.log_softmax(student_logits / T, dim=-1)
            soft_targets_loss = torch.sum(soft_targets * (soft_targets.log() - soft_prob)) / soft_prob.size()[0] * (T**2)
            kl = F.kl_div(soft_prob, soft_targets, reduction="batchmean", log_target=False) * (T ** 2)
            label_loss = ce_loss(student_logits, targets)
            hidden = cosine_loss(student_hidden, teacher_hidden, target=torch.ones(inputs.size(0)))
            loss = soft_target_loss_weight * soft_targets_loss + ce_loss_weight * label_loss + cosine_weight * hidden
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        print(f"Epoch {epoch + 1}/{epochs}, Loss: {running_loss / len(batches):.4f}, KL: {kl.item():.6f}, "
              f"cosine: {hidden.item():.6f}")
    return student_logits


def test(model):
    model.eval()
    correct = 0
    with torch.no_grad():
        for inputs, targets in batches:
            outputs, _ = model(inputs)
            _, predicted = torch.max(outputs.data, 1)
            correct += (predicted == targets).sum().item()
    accuracy = 100 * correct / 48
    print(f"Test Accuracy: {accuracy:.2f}%")
    return accuracy


nn_deep = DeepNN(num_classes=10)
train(nn_deep, epochs=3, learning_rate=0.001)
test_accuracy_deep = test(nn_deep)

torch.manual_seed(42)
nn_light = LightNN(num_classes=10)
total_params_deep = "{:,}".format(sum(p.numel() for p in nn_deep.parameters()))
print(f"DeepNN parameters: {total_params_deep}")
total_params_light = "{:,}".format(sum(p.numel() for p in nn_light.parameters()))
print(f"LightNN parameters: {total_params_light}")
logits = train_knowledge_distillation(teacher=nn_deep, student=nn_light, epochs=3, learning_rate=0.001, T=2,
                                      soft_target_loss_weight=0.25, ce_loss_weight=0.75, cosine_weight=0.1)
test_accuracy_light_ce_and_kd = test(nn_light)
print(logits[:2])
print(f"Teacher accuracy: {test_accuracy_deep:.2f}%")
print(f"Student accuracy with CE + KD: {test_accuracy_light_ce_and_kd:.2f}%")
