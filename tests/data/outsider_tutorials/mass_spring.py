# Written after PyTorch's example differentiable_physics/mass_spring.py (pytorch/examples, BSD-3-Clause), made small
# and in float64: a mass-spring system integrated by semi-implicit Euler whose forces accumulate in place into rows of
# a zeros_like tensor (forces[i] += f), whose anchored particle is reset by assignment (positions[0] = ...), trained
# by Adam through the whole simulation; then evaluated under no_grad.
import torch
import torch.nn as nn
import torch.optim as optim

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


class MassSpringSystem(nn.Module):
    def __init__(self, num_particles, springs, mass=1.0, dt=0.01, gravity=9.81):
        super().__init__()
        self.mass, self.springs, self.dt, self.gravity = mass, springs, dt, gravity
        self.initial_position_0 = torch.tensor([0.0, 0.0])
        self.initial_positions_rest = nn.Parameter(torch.randn(num_particles - 1, 2))
        self.velocities = torch.zeros(num_particles, 2)

    def forward(self, steps):
        positions = torch.cat([self.initial_position_0.unsqueeze(0), self.initial_positions_rest], dim=0)
        velocities = self.velocities
        for _ in range(steps):
            forces = torch.zeros_like(positions)
            for i, j, rest_length, stiffness in self.springs:
                dir_vec = positions[j] - positions[i]
                dist = dir_vec.norm()
                force = stiffness * (dist - rest_length) * dir_vec / (dist + 1e-6)
                forces[i] += force
                forces[j] -= force
            forces[:, 1] -= self.gravity * self.mass
            velocities = velocities + forces / self.mass * self.dt
            positions = positions + velocities * self.dt
            positions[0] = self.initial_position_0
            velocities[0] = torch.tensor([0.0, 0.0])
        return positions


system = MassSpringSystem(3, [(0, 1, 1.0, 10.0), (1, 2, 1.0, 5.0)])
optimizer = optim.Adam(system.parameters(), lr=0.01)
target = torch.tensor([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
for epoch in range(5):
    optimizer.zero_grad()
    final = system(6)
    loss = (final - target).pow(2).mean()
    loss.backward()
    optimizer.step()
    print(f"Epoch {epoch + 1}/5, Loss: {loss.item():.12f}")
print(final)
print(final.grad_fn.name(), system.initial_positions_rest.grad)
with torch.no_grad():
    print(f"Final positions after 3 steps:\n{system(3).numpy()}")
